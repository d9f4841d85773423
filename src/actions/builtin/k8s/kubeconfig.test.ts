import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeKubeApi, startFakeKubeApi } from '../../../../test/fakes/kube-api-server.ts';
import { tempDir } from '../../../../test/helpers/dvm.ts';
import type { DvmError } from '../../../errors/dvm-error.ts';
import { kubernetesHealth } from '../../connectors.ts';
import { testContext } from '../../testing.ts';
import { loadKubeConfig } from './client.ts';
import { k8sEventsAction } from './events.ts';

let fake: FakeKubeApi;
before(async () => {
  fake = await startFakeKubeApi();
});
after(() => fake.close());

const kubeconfig = (clusters: string, contexts: string, current = '') =>
  `apiVersion: v1\nkind: Config\nclusters: [${clusters}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [${contexts}]\n${current ? `current-context: ${current}\n` : ''}`;

test('KUBECONFIG as a list is merged as kubectl does: missing files skipped, every file’s contexts, the first current-context (fake Kubernetes API)', async () => {
  const dir = tempDir();
  const other = join(dir, 'other.yaml');
  writeFileSync(
    other,
    kubeconfig(
      '{name: far, cluster: {server: "https://127.0.0.1:1"}}',
      '{name: staging, context: {cluster: far, user: u}}',
    ),
  );
  const list = ['/nonexistent/config', other, fake.kubeconfig].join(':');
  const env = { ...(process.env as Record<string, string>), KUBECONFIG: list };
  const config = await loadKubeConfig(env);
  assert.deepEqual(
    config.getContexts().map((c) => c.name),
    ['staging', 'fake'],
  );
  // other.yaml sets no current-context: the fake's file does.
  assert.equal(config.getCurrentContext(), 'fake');
  fake.state.events.shop = [];
  const out = await k8sEventsAction.handler({ namespace: 'shop' }, testContext({ env }));
  assert.equal(out.summary.objects, 0);
  // A context that only the later file has, named.
  const named = await loadKubeConfig({ KUBECONFIG: [other, fake.kubeconfig].join(':') }, 'fake');
  assert.equal(named.getCurrentCluster()?.server, fake.url);
  await assert.rejects(loadKubeConfig(env, 'prod'), (e: DvmError) => {
    assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID');
    assert.equal(e.fix, 'Use one of: staging, fake.');
    return true;
  });
  // The first file to name a context wins, as in kubectl; health reads the same merge.
  const first = join(dir, 'first.yaml');
  writeFileSync(first, readFileSync(fake.kubeconfig, 'utf8').replace(fake.url, 'https://127.0.0.1:1'));
  const shadowed = await loadKubeConfig({ KUBECONFIG: [fake.kubeconfig, first].join(':') });
  assert.equal(shadowed.getCurrentCluster()?.server, fake.url);
  const health = await kubernetesHealth({ KUBECONFIG: `/nonexistent/config:${fake.kubeconfig}` })();
  assert.equal(health.status, 'ok', health.detail);
  await assert.rejects(loadKubeConfig({ KUBECONFIG: '/nonexistent/a:/nonexistent/b' }), {
    code: 'DVM_CONNECTOR_UNAVAILABLE',
    message: 'no kubeconfig at /nonexistent/a:/nonexistent/b',
  });
});

test('a plain http:// cluster without insecure-skip-tls-verify is told as such, with both ways out', async () => {
  const file = join(tempDir(), 'config');
  writeFileSync(
    file,
    kubeconfig(
      '{name: plain, cluster: {server: "http://127.0.0.1:1"}}',
      '{name: p, context: {cluster: plain, user: u}}',
      'p',
    ),
  );
  await assert.rejects(
    k8sEventsAction.handler({}, testContext({ env: { KUBECONFIG: file } })),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_CONNECTOR_UNAVAILABLE');
      assert.match(e.message, /cluster "plain" has a plain http:\/\/ server address/);
      assert.match(
        e.fix ?? '',
        /https:\/\/ address, or, for a plain-HTTP test cluster, set "insecure-skip-tls-verify: true" on cluster "plain"/,
      );
      return true;
    },
  );
});
