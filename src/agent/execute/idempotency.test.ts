import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAgentDb } from '../store/agent-db.ts';
import { GroupCommitter } from '../store/group-commit.ts';
import { IdempotencyKeys } from './idempotency.ts';

test('a key is claimed once; repeats see it running, then get the stored answer; another payload conflicts', async () => {
  const db = openAgentDb(':memory:');
  const keys = new IdempotencyKeys(new GroupCommitter(db));
  const claims = await Promise.all(Array.from({ length: 50 }, () => keys.claim('alice', 'r1', 'hash', 'x1')));
  assert.equal(claims.filter((c) => c.state === 'new').length, 1, 'exactly one claim wins');
  assert.ok(claims.filter((c) => c.state !== 'new').every((c) => c.state === 'running'));
  const waiting = keys.wait('alice', 'r1');
  await keys.complete('alice', 'r1', { status: 200, body: { ok: 1 } });
  assert.deepEqual(
    await waiting,
    { status: 200, body: { ok: 1 } },
    'a waiter polling the store gets the answer',
  );
  assert.deepEqual(await keys.claim('alice', 'r1', 'hash', 'x2'), {
    state: 'done',
    response: { status: 200, body: { ok: 1 } },
  });
  await assert.rejects(keys.claim('alice', 'r1', 'other', 'x3'), { code: 'DVM_IDEMPOTENCY_CONFLICT' });
  assert.equal((await keys.claim('bob', 'r1', 'other', 'x4')).state, 'new', 'keys are per principal');
});

test('a repeat in the same process waits on the running request without polling', async () => {
  const keys = new IdempotencyKeys(new GroupCommitter(openAgentDb(':memory:')));
  assert.equal((await keys.claim('a', 'r', 'h', 'x')).state, 'new');
  let settle!: (v: { status: number; body: unknown }) => void;
  keys.track('a', 'r', 'h', new Promise((resolve) => (settle = resolve)));
  const waiting = keys.wait('a', 'r');
  settle({ status: 202, body: { id: 'x' } });
  assert.deepEqual(await waiting, { status: 202, body: { id: 'x' } });
});

test('an unclaimed key is found while it runs here, conflicts on another payload, and is answered once recorded', async () => {
  const db = openAgentDb(':memory:');
  const keys = new IdempotencyKeys(new GroupCommitter(db));
  assert.equal(keys.lookup('a', 'r', 'h'), undefined, 'new');
  let settle!: (v: { status: number; body: unknown }) => void;
  keys.track('a', 'r', 'h', new Promise((resolve) => (settle = resolve)));
  assert.deepEqual(keys.lookup('a', 'r', 'h'), { state: 'running', executionId: null });
  assert.throws(() => keys.lookup('a', 'r', 'other'), { code: 'DVM_IDEMPOTENCY_CONFLICT' });
  assert.equal(
    db.prepare('SELECT count(*) AS n FROM idempotency').get()?.n,
    0,
    'nothing is written before it ends',
  );
  const writer = new GroupCommitter(db);
  await writer.write((tx) => keys.recordIn(tx, 'a', 'r', 'h', 'x1', { status: 200, body: { ok: 1 } }));
  settle({ status: 200, body: { ok: 1 } });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(keys.lookup('a', 'r', 'h'), { state: 'done', response: { status: 200, body: { ok: 1 } } });
  assert.throws(() => keys.lookup('a', 'r', 'other'), { code: 'DVM_IDEMPOTENCY_CONFLICT' });
  await writer.write((tx) => keys.recordIn(tx, 'a', 'r', 'h', 'x2', { status: 500, body: {} }));
  assert.equal(
    db.prepare('SELECT execution_id FROM idempotency').get()?.execution_id,
    'x1',
    'a key recorded first is kept',
  );
});
