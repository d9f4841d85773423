import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { openAgentDb } from '../store/agent-db.ts';
import { GroupCommitter } from '../store/group-commit.ts';
import { type ExecutionEvent, Executions, newExecutionId } from './executions.ts';
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
