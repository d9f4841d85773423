import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvmOk, tempHome } from '../helpers/dvm.ts';

interface Entry {
  actor: string;
  decision: string;
  via?: string;
  reasons?: string[];
  error?: { code: string };
  source?: string;
  route?: string;
}

test('requests refused before any route runs (401, role 403) are audited, a flood only up to a limit', async () => {
  const home = tempHome();
  const admin = createToken(home, 'root', 'admin');
  const viewer = createToken(home, 'watcher', 'viewer');
  const serve = await startServe(home);
  const denied = async () => {
    const audit = await api(serve.url, 'GET', '/v1/audit?decision=denied&limit=1000', { token: admin });
    assert.equal(audit.status, 200, audit.text);
    return { items: audit.body.items as Entry[], text: audit.text };
  };
  try {
    const secret = 'S'.repeat(43);
    const forged = await api(serve.url, 'GET', '/v1/audit?actor=root', { token: `dvm_0badc0de_${secret}` });
    assert.equal(forged.status, 401);
    const role = await api(serve.url, 'GET', '/v1/audit', { token: viewer });
    assert.equal(role.status, 403);
    let { items, text } = await denied();
    assert.deepEqual(
      items.map((e) => [e.actor, e.via ?? null, e.error?.code, e.reasons?.[0], e.source, e.route]),
      [
        [
          'anonymous',
          null,
          'DVM_UNAUTHENTICATED',
          'GET /v1/audit: not authenticated (invalid)',
          '127.0.0.1',
          'GET /v1/audit',
        ],
        [
          'watcher',
          'token',
          'DVM_FORBIDDEN',
          'GET /v1/audit needs the admin role, not viewer',
          '127.0.0.1',
          'GET /v1/audit',
        ],
      ],
    );
    // The table names what was refused where an execute request names its action.
    assert.match(
      dvmOk(home, ['audit', '--decision', 'denied'], { env: { DVM_SERVER: serve.url, DVM_TOKEN: admin } })
        .stdout,
      /^2\s+\S+\s+watcher\s+GET \/v1\/audit\s+denied\s*$/m,
    );
    assert.ok(!text.includes(secret), 'the presented token is never stored');

    // A flood: at most 100 entries a minute one by one, the rest counted.
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) => api(serve.url, 'POST', `/v1/nope-${i}`, { body: {} })),
    );
    assert.ok(answers.every((a) => a.status === 401));
    ({ items } = await denied());
    assert.equal(items.length, 100, 'the first 100 of the window');
    assert.equal(items.filter((e) => /not authenticated \(missing\)$/.test(e.reasons?.[0] ?? '')).length, 98);
  } finally {
    await serve.stop();
  }
  // The rest is summarised in one entry when the window ends or the server stops.
  const exported = dvmOk(home, ['audit', 'export', '--decision', 'denied']).stdout.trim().split('\n');
  const entries = exported.map((line) => JSON.parse(line) as Entry);
  assert.equal(entries.length, 101);
  assert.match(
    entries[100].reasons?.[0] ?? '',
    /^52 more refused requests in this 60 s window were counted, .*: missing ×52; from 127\.0\.0\.1 ×52$/,
  );
});
