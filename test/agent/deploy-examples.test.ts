import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { k8sEventsAction } from '../../src/actions/builtin/k8s/events.ts';
import { k8sPodLogsAction } from '../../src/actions/builtin/k8s/pod-logs.ts';
import { k8sScaleAction } from '../../src/actions/builtin/k8s/scale.ts';
import { testContext } from '../../src/actions/testing.ts';
import { startFakeKubeApi } from '../fakes/kube-api-server.ts';
import { startServe } from '../helpers/agent-server.ts';
import { makeCertificate } from '../helpers/certificates.ts';
import { REPO_ROOT, tempDir, tempHome } from '../helpers/dvm.ts';
import { requireService } from '../support/require-service.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'agent-deploy');

test('examples/agent-deploy/dvm-agent.service passes systemd-analyze verify, and its ExecStart serves HTTPS from its home', async (t) => {
  const analyze = () => spawnSync('systemd-analyze', ['--version']).status === 0;
  if (
    !(await requireService(
      t,
      'systemd-analyze',
      async () => analyze(),
      'bash scripts/services/systemd-analyze.sh',
    ))
  )
    return;
  const unit = readFileSync(join(EXAMPLES, 'dvm-agent.service'), 'utf8');
  // verify checks that ExecStart's binary is executable: the node running this test stands in for /usr/bin/node.
  const dir = tempDir();
  const copy = join(dir, 'dvm-agent.service');
  writeFileSync(copy, unit.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
  const verified = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  assert.equal(verified.status, 0, verified.stderr);
  assert.equal(`${verified.stdout}${verified.stderr}`.trim(), '', 'no unknown keys, no warnings');

  const setting = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
  const home = setting('Environment')?.replace(/^DVM_HOME=/, '');
  assert.equal(home, '/var/lib/dvm');
  assert.equal(setting('ReadWritePaths'), home, 'the only path it may write is its home');
  assert.equal(setting('StateDirectory'), 'dvm', 'systemd creates /var/lib/dvm for it');
  assert.equal(setting('ProtectSystem'), 'strict');

  // Its command line, with the home and the address of this test, starts an HTTPS agent.
  const argv = (setting('ExecStart') ?? '').split(' ');
  assert.deepEqual(argv.slice(0, 3), ['/usr/bin/node', '/opt/dvm/bin/dvm.js', 'serve']);
  const testHome = tempHome();
  mkdirSync(join(testHome, 'tls'));
  if (!makeCertificate(join(testHome, 'tls', 'cert.pem'), join(testHome, 'tls', 'key.pem'), 'dvm-unit'))
    return t.skip('openssl is not installed');
  const args = argv
    .slice(3)
    .map((a) => (a === '0.0.0.0:8700' ? '127.0.0.1:0' : a.replace(/^\/var\/lib\/dvm/, testHome)));
  const serve = await startServe(testHome, {}, args);
  try {
    assert.match(serve.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(join(testHome, 'tls', 'cert.pem'));
    const status = await new Promise<number>((resolve, reject) => {
      get(`${serve.url}/v1/health`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(status, 200);
  } finally {
    await serve.stop();
  }
});

// The (API group, resource, verb) of a request the k8s actions sent, as Kubernetes RBAC names it.
function rbacOf(method: string, path: string): string {
  const verb = method === 'PUT' ? 'update' : 'get';
  if (/^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/log$/.test(path)) return `/pods/log/${verb}`;
  if (/^\/api\/v1\/namespaces\/[^/]+\/events$/.test(path))
    return `/events/${method === 'GET' ? 'list' : verb}`;
  if (/^\/apis\/apps\/v1\/namespaces\/[^/]+\/deployments\/[^/]+\/scale$/.test(path))
    return `apps/deployments/scale/${verb}`;
  return `unknown ${method} ${path}`;
}

test('examples/agent-deploy/kubernetes-rbac.yaml grants exactly what the k8s actions request, nothing more (fake Kubernetes API)', async () => {
  const docs = parseAllDocuments(readFileSync(join(EXAMPLES, 'kubernetes-rbac.yaml'), 'utf8')).map((d) =>
    d.toJS(),
  );
  assert.deepEqual(
    docs.map((d) => d.kind),
    ['ServiceAccount', 'Role', 'RoleBinding'],
  );
  const role = docs[1] as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  const granted = new Set(
    role.rules.flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}/${v}`))),
    ),
  );
  assert.deepEqual(docs[2].subjects, [{ kind: 'ServiceAccount', name: 'dvm-agent' }]);

  const kube = await startFakeKubeApi();
  try {
    kube.state.logs['shop/web-1/'] = 'a\nb\n';
    kube.state.events.shop = [];
    kube.state.deployments['shop/web'] = 2;
    const context = testContext({
      env: { ...(process.env as Record<string, string>), KUBECONFIG: kube.kubeconfig },
    });
    await k8sPodLogsAction.handler({ namespace: 'shop', pod: 'web-1' }, context);
    const following = k8sPodLogsAction.handler({ namespace: 'shop', pod: 'web-1', follow: true }, context);
    for (let i = 0; i < 200 && kube.following('shop/web-1/') === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    kube.endLog('shop/web-1/');
    await following;
    await k8sEventsAction.handler({ namespace: 'shop' }, context);
    await k8sScaleAction.handler({ namespace: 'shop', deployment: 'web', replicas: 3 }, context);
    assert.deepEqual(kube.unexpected(), []);
    const requested = new Set(kube.requests.map((r) => rbacOf(r.method, r.path)));
    assert.deepEqual([...requested].sort(), [...granted].sort());
  } finally {
    await kube.close();
  }
});
