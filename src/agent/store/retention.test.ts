import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentSettings } from '../agent-settings.ts';
import { openAgentDb } from './agent-db.ts';
import { PRUNE_BATCH, pruneAgentData } from './retention.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-11-30T12:00:00Z');

// An execution id as newExecutionId makes it, created at `at`.
const idAt = (at: Date, n: number) => `x${at.getTime().toString(36)}${String(n).padStart(12, '0')}`;

function execution(
  db: ReturnType<typeof openAgentDb>,
  id: string,
  status: string,
  requestId: string,
  answered = status !== 'running',
) {
  db.prepare(
    `INSERT INTO executions (id, request_id, principal, action, version, status, created_at)
     VALUES (?, ?, 'token/a', 'system.info', '1.0.0', ?, '2026-01-01T00:00:00.000Z')`,
  ).run(id, requestId, status);
  db.prepare("INSERT INTO execution_events (execution_id, seq, event) VALUES (?, 2, '{}')").run(id);
  db.prepare(
    `INSERT INTO idempotency (principal, request_id, payload_hash, execution_id, status, response, created_at)
     VALUES ('token/a', ?, 'h', ?, ?, ?, '2026-01-01T00:00:00.000Z')`,
  ).run(requestId, id, answered ? 200 : null, answered ? '{}' : null);
}

const count = (db: ReturnType<typeof openAgentDb>, table: string) =>
  (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

test('pruning deletes ended executions older than the retention with their events and request ids, and nothing else', async () => {
  const db = openAgentDb(':memory:');
  const old = new Date(NOW.getTime() - 40 * DAY);
  const recent = new Date(NOW.getTime() - 2 * DAY);
  execution(db, idAt(old, 1), 'succeeded', 'old-done');
  execution(db, idAt(old, 2), 'failed', 'old-failed');
  execution(db, idAt(old, 3), 'running', 'old-running');
  execution(db, idAt(recent, 4), 'succeeded', 'recent-done');
  // A key whose execution ended but whose answer is not stored yet stays, with the execution the reaper answers
  // it from.
  execution(db, idAt(old, 5), 'interrupted', 'old-unanswered', false);
  const confirm = db.prepare(
    "INSERT INTO confirmations (id, binding, principal, created_at, expires_at) VALUES (?, 'b', 'token/a', '', ?)",
  );
  confirm.run('c-old', new Date(old.getTime() + 300_000).toISOString());
  confirm.run('c-now', new Date(NOW.getTime() + 300_000).toISOString());
  db.prepare(
    "INSERT INTO audit (seq, at, actor, decision, entry, prev_hash, hash) VALUES (1, '2026-01-01', 'a', 'allowed', '{}', 'p', 'h')",
  ).run();

  const report = await pruneAgentData(db, 30 * DAY, NOW);
  assert.deepEqual(report, { executions: 2, requestIds: 2, confirmations: 1 });
  assert.deepEqual(
    (db.prepare('SELECT request_id FROM executions ORDER BY id').all() as { request_id: string }[]).map(
      (r) => r.request_id,
    ),
    ['old-running', 'old-unanswered', 'recent-done'],
  );
  assert.deepEqual(
    (
      db.prepare('SELECT request_id FROM idempotency ORDER BY request_id').all() as { request_id: string }[]
    ).map((r) => r.request_id),
    ['old-running', 'old-unanswered', 'recent-done'],
  );
  assert.equal(count(db, 'execution_events'), 3, 'the events of the kept executions stay');
  assert.deepEqual(
    (db.prepare('SELECT id FROM confirmations').all() as { id: string }[]).map((r) => r.id),
    ['c-now'],
  );
  assert.equal(count(db, 'audit'), 1, 'the audit log is never pruned');
  assert.deepEqual(await pruneAgentData(db, 30 * DAY, NOW), {
    executions: 0,
    requestIds: 0,
    confirmations: 0,
  });
});

test('a backlog larger than one batch is pruned whole, batch by batch', async () => {
  const db = openAgentDb(':memory:');
  const old = new Date(NOW.getTime() - 40 * DAY);
  for (let i = 0; i < PRUNE_BATCH + 5; i++) execution(db, idAt(old, i), 'succeeded', `r${i}`);
  const report = await pruneAgentData(db, 30 * DAY, NOW);
  assert.equal(report.executions, PRUNE_BATCH + 5);
  assert.equal(count(db, 'executions'), 0);
  assert.equal(count(db, 'idempotency'), 0);
});

test('agent.retention is a positive duration; anything else is DVM_SCHEMA_INVALID at agent.retention', () => {
  const retentionOf = (config: Record<string, unknown>, file: string) =>
    agentSettings(config, file).retention;
  assert.equal(retentionOf({}, 'config.yaml'), undefined);
  assert.equal(retentionOf({ agent: { environments: ['prod'] } }, 'config.yaml'), undefined);
  assert.deepEqual(retentionOf({ agent: { retention: '30d' } }, 'config.yaml'), {
    ms: 30 * DAY,
    text: '30d',
  });
  for (const bad of ['forever', '0s', 30, '', null])
    assert.throws(
      () => retentionOf({ agent: { retention: bad } }, 'config.yaml'),
      (error: { code?: string; location?: { file?: string; path?: string } }) =>
        error.code === 'DVM_SCHEMA_INVALID' &&
        error.location?.file === 'config.yaml' &&
        error.location.path === 'agent.retention',
      String(bad),
    );
});
