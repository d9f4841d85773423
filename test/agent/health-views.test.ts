import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvmAsync, tempDir, tempHome } from '../helpers/dvm.ts';

type Connectors = Record<string, { status: string; detail: string }>;

// A kubeconfig whose cluster nothing answers (port 1 refuses at once).
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: nowhere
    cluster: {server: 'https://127.0.0.1:1'}
users:
  - name: someone
    user: {token: not-a-real-one}
contexts:
  - name: nowhere
    context: {cluster: nowhere, user: someone}
current-context: nowhere
`;

test('GET /v1/health: without a valid token each connector has its status and a generic detail (no socket path, kubeconfig path or server URL); a token of any role shows the details; a bad or revoked token is not refused and gets the anonymous view, with the same HTTP status, and is audited denied', async () => {
  const dir = tempDir('dvm-health-');
  const socket = join(dir, 'no-docker-here.sock');
  const kubeconfig = join(dir, 'kubeconfig-of-the-test.yaml');
  writeFileSync(kubeconfig, KUBECONFIG);
  const home = tempHome();
  const viewer = createToken(home, 'watcher', 'viewer');
  const admin = createToken(home, 'root', 'admin');
  const revoked = createToken(home, 'gone', 'viewer');
  const serve = await startServe(home, {
    DOCKER_HOST: `unix://${socket}`,
    KUBECONFIG: kubeconfig,
    JAVA_HOME: dir,
  });
  try {
    const revoke = await dvmAsync(home, ['token', 'revoke', 'gone']);
    assert.equal(revoke.status, 0, revoke.stderr);
    const health = (authorization?: string) =>
      api(serve.url, 'GET', '/v1/health', authorization ? { headers: { authorization } } : {});

    const full = await health(`Bearer ${viewer}`);
    const connectors = full.body.connectors as Connectors;
    assert.equal(full.status, 200, full.text);
    assert.equal(full.body.status, 'degraded', full.text);
    assert.equal(full.headers.get('vary'), 'authorization');
    assert.equal(full.headers.get('cache-control'), 'no-store');
    // The details a token shows: where Docker and Kubernetes were looked for, and why they do not answer.
    assert.equal(connectors.docker.status, 'unavailable');
    assert.ok(connectors.docker.detail.includes(socket), connectors.docker.detail);
    assert.equal(connectors.kubernetes.status, 'unavailable');
    assert.ok(connectors.kubernetes.detail.includes(kubeconfig), connectors.kubernetes.detail);
    assert.match(connectors.git.detail, /^git version /);

    for (const [who, authorization] of [
      ['no token', undefined],
      ['a token that is no dvm token', 'Bearer nonsense'],
      ['a malformed header', 'Basic cm9vdDpyb290'],
      ['a revoked token', `Bearer ${revoked}`],
    ] as const) {
      const anonymous = await health(authorization);
      assert.equal(anonymous.status, full.status, `${who}: ${anonymous.text}`);
      assert.equal(anonymous.body.status, full.body.status, who);
      assert.equal(anonymous.headers.get('www-authenticate'), null, `${who}: not refused`);
      for (const secret of [socket, dir, kubeconfig, 'kubeconfig-of-the-test', '127.0.0.1:1', 'git version'])
        assert.ok(!anonymous.text.includes(secret), `${who}: ${secret} in ${anonymous.text}`);
      const seen = anonymous.body.connectors as Connectors;
      assert.deepEqual(Object.keys(seen).sort(), Object.keys(connectors).sort(), who);
      for (const [name, { status }] of Object.entries(connectors)) {
        const generic = { ok: 'ok', unavailable: 'not available', error: 'failing' }[status];
        assert.deepEqual(
          seen[name],
          { status, detail: `${generic} (send a bearer token for details)` },
          `${who}: ${name}`,
        );
      }
    }

    // An admin's token shows the same details as a viewer's. Each token that did not authenticate was audited
    // denied (health cannot be used to try tokens unseen), with its reason and never the token; no token is no
    // attempt, and the valid ones are not denials.
    const asAdmin = await health(`Bearer ${admin}`);
    assert.ok((asAdmin.body.connectors as Connectors).docker.detail.includes(socket), asAdmin.text);
    const denied = await api(serve.url, 'GET', '/v1/audit?decision=denied', { token: admin });
    assert.equal(denied.status, 200, denied.text);
    const entries = denied.body.items as { actor: string; reasons: string[]; route?: string }[];
    assert.deepEqual(
      entries.map((e) => [e.actor, e.route, e.reasons]),
      ['invalid', 'malformed', 'revoked'].map((reason) => [
        'anonymous',
        'GET /v1/health',
        [`GET /v1/health: not authenticated (${reason}); answered the anonymous view`],
      ]),
      denied.text,
    );
    assert.ok(!denied.text.includes(revoked) && !denied.text.includes('nonsense'), denied.text);
  } finally {
    await serve.stop();
  }
});

test('the OpenAPI document says a token is optional on health and what it shows', async () => {
  const home = tempHome();
  const serve = await startServe(home);
  try {
    const document = await api(serve.url, 'GET', '/v1/openapi.json', {
      token: createToken(home, 'r', 'viewer'),
    });
    const health = (document.body.paths as Record<string, Record<string, Record<string, unknown>>>)[
      '/v1/health'
    ].get;
    assert.deepEqual(health.security, [{}, { bearer: [] }]);
    assert.match(String(health['x-dvm-with-token']), /kubeconfig file/);
    assert.match(String(health.summary), /a token that does not authenticate is not refused/);
  } finally {
    await serve.stop();
  }
});
