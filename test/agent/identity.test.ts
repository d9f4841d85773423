import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { agentDbPath, openAgentDb } from '../../src/agent/store/agent-db.ts';
import { api, createToken, type ServeProcess, startServe } from '../helpers/agent-server.ts';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const home = tempHome();
let serve: ServeProcess;
// A token named `local`, as a dvm that did not reserve the name would have stored it.
const legacySecret = 'L'.repeat(43);
const legacy = `dvm_0badc0de_${legacySecret}`;
let admin: string;
let viewer: string;

before(async () => {
  admin = createToken(home, 'root', 'admin');
  viewer = createToken(home, 'watcher', 'viewer');
  const db = openAgentDb(agentDbPath(home));
  db.prepare('INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)').run(
    '0badc0de',
    'local',
    'viewer',
    createHash('sha256').update(legacySecret).digest('hex'),
    new Date().toISOString(),
  );
  db.close();
  serve = await startServe(home);
});

after(async () => {
  await serve?.stop();
});

test('dvm token create refuses the name of a built-in principal', () => {
  const created = dvm(home, ['token', 'create', '--name', 'local', '--role', 'viewer']);
  assert.equal(created.status, 1, created.stdout);
  assert.match(created.stderr, /DVM_TOKEN_INVALID.*reserved/);
});

test("a token named local cannot read the local CLI user's executions", async () => {
  const run = JSON.parse(dvmOk(home, ['action', 'run', 'system.info', '-o', 'json']).stdout);
  const path = `/v1/executions/${run.execution_id}`;
  const stolen = await api(serve.url, 'GET', path, { token: legacy });
  assert.equal(stolen.status, 401, stolen.text);
  assert.equal((stolen.body.details as { reason: string }).reason, 'reserved');
  assert.equal((await api(serve.url, 'GET', path, { token: viewer })).status, 404, 'not yours');
  const record = await api(serve.url, 'GET', path, { token: admin });
  assert.equal(record.status, 200);
  assert.equal(record.body.principal, 'local', 'owned by the local admin identity');
  const audit = await api(serve.url, 'GET', '/v1/audit?actor=local', { token: admin });
  const entries = (
    audit.body.items as { requestId: string; actor: string; via: string; principal: string }[]
  ).filter((e) => e.requestId === run.request_id);
  assert.ok(entries.length >= 2);
  for (const entry of entries)
    assert.deepEqual([entry.actor, entry.via, entry.principal], ['local', 'local', 'local']);
});

test("a token's executions are keyed by its identity, and the audit records how it came in", async () => {
  const run = await api(serve.url, 'POST', '/v1/actions/execute', {
    token: viewer,
    body: { request_id: 'mine-1', action: 'system.info', target: { env: 'dev' } },
  });
  assert.equal(run.status, 200, run.text);
  const record = await api(serve.url, 'GET', `/v1/executions/${run.body.execution_id}`, { token: viewer });
  assert.match(String(record.body.principal), /^token\/[0-9a-f]{8}$/);
  const audit = await api(serve.url, 'GET', '/v1/audit?actor=watcher', { token: admin });
  const entries = audit.body.items as { via: string; principal: string }[];
  assert.ok(entries.length >= 2);
  for (const entry of entries)
    assert.deepEqual([entry.via, entry.principal], ['token', record.body.principal]);
});
