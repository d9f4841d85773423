import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { AuditLog } from '../audit/audit-log.ts';
import { openAgentDb } from '../store/agent-db.ts';
import { GroupCommitter } from '../store/group-commit.ts';
import { type ExecutionEvent, Executions, INTERRUPTED_EVENT_ID, newExecutionId } from './executions.ts';
import { IdempotencyKeys } from './idempotency.ts';

test('subscribers get every event in order, live and replayed after Last-Event-ID, then the end', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const executions = new Executions(db, writer);
  const id = newExecutionId();
  await executions.create({ id, principal: 'a', action: 'x.y', version: '1.0.0' });
  executions.emit(id, 'log', { line: 'one' });
  const seen: number[] = [];
  let ended = false;
  executions.subscribe(
    id,
    1,
    (e) => seen.push(e.id),
    () => (ended = true),
  );
  executions.emit(id, 'log', { line: 'two' });
  await executions.finish(id, { status: 'succeeded', result: { n: 2 } });
  assert.deepEqual(seen, [2, 3, 4], 'events after 1: log one, log two, completed');
  assert.ok(ended);
  assert.equal(executions.get(id).status, 'succeeded');

  // A fresh instance (another process, or after a restart) replays from the store.
  const again = new Executions(db, writer);
  const replay: ExecutionEvent[] = [];
  again.subscribe(
    id,
    2,
    (e) => replay.push(e),
    () => {},
  );
  assert.deepEqual(
    replay.map((e) => e.type),
    ['log', 'completed'],
  );
  assert.deepEqual(again.get(id).result, { n: 2 });
  assert.throws(() => again.get('nope'), { code: 'DVM_EXECUTION_NOT_FOUND' });
});

test('finished executions stay in memory up to a bound; older ones replay from the store', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const executions = new Executions(db, writer);
  const ids: string[] = [];
  for (let i = 0; i < 1_050; i++) {
    const id = newExecutionId();
    ids.push(id);
    await executions.create({ id, principal: 'a', action: 'x.y', version: '1.0.0' });
    executions.emit(id, 'log', { line: `line ${i}` });
    await executions.finish(id, { status: 'succeeded', result: { i } });
  }
  assert.ok(executions.inMemory <= 1_000, `${executions.inMemory} executions kept in memory`);
  const replay: ExecutionEvent[] = [];
  executions.subscribe(
    ids[0],
    0,
    (e) => replay.push(e),
    () => {},
  );
  assert.deepEqual(
    replay.map((e) => [e.type, e.data]),
    [
      ['started', { action: 'x.y', version: '1.0.0' }],
      ['log', { line: 'line 0' }],
      ['completed', { result: { i: 0 } }],
    ],
  );
  assert.deepEqual(executions.get(ids[1_049]).result, { i: 1_049 });
});

test('executions of a dead process become interrupted and their request ids answer so, never run again', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const keys = new IdempotencyKeys(writer);
  const executions = new Executions(db, writer);
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
  const prepared = executions.prepare({
    id: 'x1',
    request_id: 'r1',
    principal: 'a',
    action: 'x.y',
    version: '1.0.0',
  });
  await keys.claim('a', 'r1', 'h', 'x1', (d) => {
    prepared.persist(d);
    d.prepare('UPDATE executions SET pid = ? WHERE id = ?').run(Number(dead), 'x1');
  });
  assert.deepEqual(new Executions(db, writer).reapInterrupted(), ['x1']);
  const claim = await keys.claim('a', 'r1', 'h', 'x2');
  assert.equal(claim.state, 'done');
  assert.equal(claim.state === 'done' && claim.response.status, 500);
  assert.equal(
    claim.state === 'done' && (claim.response.body as { code: string }).code,
    'DVM_EXECUTION_INTERRUPTED',
  );
});

test('an execution found interrupted gets its `failed` audit entry, with who asked for what, once', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const audit = new AuditLog(db, { writer });
  const keys = new IdempotencyKeys(writer);
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
  const prepared = new Executions(db, writer).prepare({
    id: 'x1',
    request_id: 'r1',
    principal: 'token/a11ce000',
    action: 'docker.restart_container',
    version: '1.0.0',
    env: 'prod',
  });
  await keys.claim('token/a11ce000', 'r1', 'h', 'x1', (d) => {
    prepared.persist(d);
    audit.appendIn(d, {
      at: new Date().toISOString(),
      actor: 'alice',
      via: 'token',
      principal: 'token/a11ce000',
      action: 'docker.restart_container',
      version: '1.0.0',
      decision: 'allowed',
      env: 'prod',
      target: 'env=prod',
      requestId: 'r1',
      executionId: 'x1',
      params: { container: 'web' },
    });
    d.prepare('UPDATE executions SET pid = ? WHERE id = ?').run(Number(dead), 'x1');
  });
  assert.deepEqual(new Executions(db, writer, audit).reapInterrupted(), ['x1']);
  assert.deepEqual(new Executions(db, writer, audit).reapInterrupted(), [], 'reaped once');
  const failed = audit.query({ decision: 'failed' }).items;
  assert.equal(failed.length, 1);
  assert.equal(failed[0].actor, 'alice');
  assert.equal(failed[0].executionId, 'x1');
  assert.equal(failed[0].requestId, 'r1');
  assert.equal(failed[0].target, 'env=prod');
  assert.deepEqual(failed[0].params, { container: 'web' });
  assert.equal(failed[0].error?.code, 'DVM_EXECUTION_INTERRUPTED');
  assert.match(String(failed[0].reasons?.[0]), new RegExp(`pid ${dead}\\) died`));
  assert.equal(audit.verify().ok, true);
});

test('a request id whose execution ended but whose answer was never stored is answered from the record', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const keys = new IdempotencyKeys(writer);
  const executions = new Executions(db, writer);
  const prepared = executions.prepare({
    id: 'x9',
    request_id: 'r9',
    principal: 'a',
    action: 'x.y',
    version: '1.0.0',
  });
  await keys.claim('a', 'r9', 'h', 'x9', prepared.persist);
  prepared.open();
  await executions.finish('x9', { status: 'succeeded', result: { ok: true } });
  // The process dies here, before the key got its answer.
  new Executions(db, writer).reapInterrupted();
  const claim = await keys.claim('a', 'r9', 'h', 'x10');
  assert.equal(claim.state, 'done');
  assert.equal(claim.state === 'done' && claim.response.status, 200);
  assert.deepEqual(claim.state === 'done' && (claim.response.body as { result: unknown }).result, {
    ok: true,
  });
});

test('a client resuming after events its dead agent streamed but never stored still gets the final event', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const executions = new Executions(db, writer);
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
  await executions.create({ id: 'x1', principal: 'a', action: 'x.y', version: '1.0.0' });
  db.prepare('UPDATE executions SET pid = ? WHERE id = ?').run(Number(dead), 'x1');
  const seen: number[] = [];
  executions.subscribe(
    'x1',
    0,
    (e) => seen.push(e.id),
    () => {},
  );
  executions.emit('x1', 'log', { line: 'stored' });
  await writer.drain();
  // Streamed to the client, then the process died before the write that stores them.
  for (const line of ['lost 1', 'lost 2']) executions.emit('x1', 'log', { line });
  assert.deepEqual(seen, [1, 2, 3, 4]);

  // A new agent on the same database (the old one's queued writes never ran).
  const restarted = new Executions(db, new GroupCommitter(db));
  assert.deepEqual(restarted.reapInterrupted(), ['x1']);
  const resumed: ExecutionEvent[] = [];
  let ended = false;
  restarted.subscribe(
    'x1',
    4,
    (e) => resumed.push(e),
    () => (ended = true),
  );
  assert.deepEqual(
    resumed.map((e) => [e.id, e.type, (e.data.error as { code?: string })?.code]),
    [[INTERRUPTED_EVENT_ID, 'failed', 'DVM_EXECUTION_INTERRUPTED']],
  );
  assert.ok(ended);
  const fromStart: string[] = [];
  restarted.subscribe(
    'x1',
    0,
    (e) => fromStart.push(`${e.id} ${e.type}`),
    () => {},
  );
  assert.deepEqual(fromStart, ['1 started', '2 log', `${INTERRUPTED_EVENT_ID} failed`]);
  const none: ExecutionEvent[] = [];
  restarted.subscribe(
    'x1',
    INTERRUPTED_EVENT_ID,
    (e) => none.push(e),
    () => {},
  );
  assert.deepEqual(none, [], 'a client that saw the final event gets nothing more');
});

test('runner names the process that runs an execution, and reaps only that one when its process died', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const executions = new Executions(db, writer);
  const dead = Number(
    spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim(),
  );
  // x-here runs in this process; x-parent in a live other one; x-dead and x-dead-too in a process that died;
  // x-sibling carries this pid without being live here (another agent of this process runs it).
  await executions.create({ id: 'x-here', principal: 'a', action: 'x.y', version: '1.0.0' });
  for (const [id, pid] of [
    ['x-parent', process.ppid],
    ['x-dead', dead],
    ['x-dead-too', dead],
    ['x-sibling', process.pid],
  ] as const) {
    await new Executions(db, writer).create({ id, principal: 'a', action: 'x.y', version: '1.0.0' });
    db.prepare('UPDATE executions SET pid = ? WHERE id = ?').run(pid, id);
  }
  assert.equal(executions.runner('x-here'), process.pid);
  assert.equal(executions.runner('x-parent'), process.ppid);
  assert.equal(executions.runner('x-sibling'), process.pid);
  assert.equal(executions.runner('x-dead'), undefined);
  const status = (id: string) =>
    (db.prepare('SELECT status FROM executions WHERE id = ?').get(id) as { status: string }).status;
  assert.equal(status('x-dead'), 'interrupted');
  assert.equal(status('x-dead-too'), 'running', 'only the execution asked about is reaped');
  assert.equal(status('x-sibling'), 'running');
  await executions.finish('x-here', { status: 'failed', error: { code: 'DVM_CANCELLED' } });
  assert.equal(executions.runner('x-here'), undefined, 'ended');
  assert.equal(executions.runner('x-none'), undefined);
});

test("a second agent of the same process (dvm serve's, for job tasks) does not reap the first one's running executions", async () => {
  const db = openAgentDb(':memory:');
  const first = new Executions(db, new GroupCommitter(db));
  await first.create({ id: 'x1', principal: 'a', action: 'x.y', version: '1.0.0' });
  // A running record of this pid that no agent here runs: left by an earlier process the pid was reused from.
  db.prepare(
    `INSERT INTO executions (id, principal, action, version, status, pid, created_at)
     VALUES ('x2', 'a', 'x.y', '1.0.0', 'running', ?, '2026-01-01T00:00:00.000Z')`,
  ).run(process.pid);
  const second = new Executions(db, new GroupCommitter(db));
  assert.deepEqual(second.reapInterrupted(), ['x2']);
  assert.equal(second.get('x1').status, 'running');
  await first.finish('x1', { status: 'succeeded', result: {} });
  assert.equal(second.get('x1').status, 'succeeded');
});
