import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startHttpProxy, useFakeKubeApi } from '../../../../test/fakes/kube-api-server.ts';
import { tempDir } from '../../../../test/helpers/dvm.ts';
import type { DvmError } from '../../../errors/dvm-error.ts';
import { kubernetesHealth } from '../../connectors.ts';
import { testContext } from '../../testing.ts';
import { loadKubeConfig } from './client.ts';
import { k8sEventsAction } from './events.ts';
import { k8sPodLogsAction } from './pod-logs.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const { fake } = useFakeKubeApi();

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

test('an empty file in KUBECONFIG adds nothing, as in kubectl; a list of only empty files is no kubeconfig (fake Kubernetes API)', async () => {
  const dir = tempDir();
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '');
  const blank = join(dir, 'blank.yaml');
  writeFileSync(blank, '\n  \r\n# only a comment, Windows line ends\r\n');
  const env = {
    ...(process.env as Record<string, string>),
    KUBECONFIG: [empty, fake.kubeconfig, blank].join(':'),
  };
  const config = await loadKubeConfig(env);
  assert.deepEqual(
    config.getContexts().map((c) => c.name),
    ['fake'],
  );
  assert.equal(config.getCurrentCluster()?.server, fake.url);
  fake.state.events.shop = [];
  const out = await k8sEventsAction.handler({ namespace: 'shop' }, testContext({ env }));
  assert.equal(out.summary.objects, 0);
  const health = await kubernetesHealth(env)();
  assert.equal(health.status, 'ok', health.detail);

  const none = [empty, blank].join(':');
  await assert.rejects(loadKubeConfig({ KUBECONFIG: none }), {
    code: 'DVM_CONNECTOR_UNAVAILABLE',
    message: `no kubeconfig at ${none} (every file is empty)`,
  });
  const emptyHealth = await kubernetesHealth({ KUBECONFIG: none })();
  assert.equal(emptyHealth.status, 'unavailable');
  assert.match(emptyHealth.detail, /no kubeconfig at .*every file is empty/);
});

test('a plain http:// server behind a proxy-url is used as client-node uses it: through the proxy, no insecure-skip-tls-verify needed (fake Kubernetes API)', async () => {
  const proxy = await startHttpProxy();
  try {
    const file = join(tempDir(), 'config');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters: [{name: behind, cluster: {server: "${fake.url}", proxy-url: "${proxy.url}"}}]\nusers: [{name: u, user: {token: ${fake.token}}}]\ncontexts: [{name: b, context: {cluster: behind, user: u}}]\ncurrent-context: b\n`,
    );
    const env = { KUBECONFIG: file };
    fake.state.events.shop = [];
    const out = await k8sEventsAction.handler({ namespace: 'shop' }, testContext({ env }));
    assert.equal(out.summary.objects, 0);
    // The follow asks with its own request, through the same proxy.
    fake.state.logs['shop/web-1/'] = 'one\ntwo\n';
    const lines: string[] = [];
    const following = k8sPodLogsAction.handler(
      { namespace: 'shop', pod: 'web-1', tail: 1, follow: true },
      testContext({ env, emit: (e) => e.type === 'log' && lines.push(e.line) }),
    );
    for (let i = 0; i < 300 && fake.following('shop/web-1/') === 0; i++) await sleep(10);
    fake.appendLog('shop/web-1/', 'three');
    for (let i = 0; i < 300 && !lines.includes('three'); i++) await sleep(10);
    fake.endLog('shop/web-1/');
    assert.equal((await following).summary.lines, 2);
    const health = await kubernetesHealth(env)();
    assert.equal(health.status, 'ok', health.detail);
    assert.deepEqual(
      proxy.seen.map((line) => line.replace(/\?.*$/, '')),
      [
        `GET ${fake.url}/api/v1/namespaces/shop/events`,
        `GET ${fake.url}/api/v1/namespaces/shop/pods/web-1/log`,
        `GET ${fake.url}/api/v1/namespaces/shop/pods/web-1/log`,
        `GET ${fake.url}/version`,
      ],
    );
  } finally {
    await proxy.close();
  }
});
