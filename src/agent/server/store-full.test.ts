import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { systemError } from '../../errors/system-errors.ts';
import { openAgent } from '../agent.ts';
import { WRITE_FAILURE_HOLD_MS } from '../health.ts';
import { createAgentServer } from './create-server.ts';

// An agent on a fresh home, its API in-process, and an operator's execute of system.info; `close` removes it all.
async function agentApi(prefix: string) {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const agent = await openAgent(home);
  const app = createAgentServer(agent);
  const { token } = agent.tokens.create('ops', 'operator');
  const execute = (requestId: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/actions/execute',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: { request_id: requestId, action: 'system.info', target: { env: 'dev' } },
    });
  const close = async () => {
    await app.close();
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  };
  return { home, agent, app, token, execute, close };
}

// SQLite's max_page_count makes the database "full" for real: its writes fail with SQLITE_FULL, as on a full disk.
test('a full agent database: execute answers 503 DVM_STORE_UNAVAILABLE (not a bug), health drains the agent (its detail for a token only), and both recover once there is room', async () => {
  const { agent, app, token, execute, close } = await agentApi('dvm-store-full-');
  try {
    const health = (withToken = true) =>
      app.inject({
        method: 'GET',
        url: '/v1/health',
        headers: withToken ? { authorization: `Bearer ${token}` } : {},
      });
    assert.equal((await execute('before')).statusCode, 200);
    assert.equal((await health()).json().connectors.store.status, 'ok');

    const pages = Number((agent.db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count);
    agent.db.exec(`PRAGMA max_page_count = ${pages}`);
    let full: Awaited<ReturnType<typeof execute>> | undefined;
    for (let i = 0; i < 200 && !full; i++) {
      const answer = await execute(`full-${i}`);
      if (answer.statusCode !== 200) full = answer;
    }
    assert.ok(full, 'the database filled up');
    assert.equal(full.statusCode, 503, full.body);
    assert.equal(full.json().code, 'DVM_STORE_UNAVAILABLE');
    assert.match(full.json().message, /database or disk is full/);
    assert.match(full.json().details.fix, /Free disk space/);
    const drained = await health();
    assert.equal(drained.statusCode, 503, 'a load balancer drains an agent that cannot record');
    assert.equal(drained.json().connectors.store.status, 'unavailable');
    assert.match(
      drained.json().connectors.store.detail,
      /cannot be written \(since .*\): database or disk is full/,
    );
    // A probe without a token drains it just the same, and reads no error text.
    const anonymous = await health(false);
    assert.equal(anonymous.statusCode, 503);
    assert.deepEqual(anonymous.json().connectors.store, {
      status: 'unavailable',
      detail: 'not available (send a bearer token for details)',
    });

    agent.db.exec(`PRAGMA max_page_count = ${pages * 100}`);
    assert.equal((await execute('after')).statusCode, 200, 'writes work again');
    assert.equal((await health()).statusCode, 200, 'a write that succeeds ends the failure');
    assert.ok(agent.audit.verify().ok, 'the audit chain stayed intact');
  } finally {
    await close();
  }
});

test('an agent database another process keeps locked: execute answers 503 DVM_STORE_UNAVAILABLE once the wait runs out, then works when the lock goes', async () => {
  const { home, agent, execute, close } = await agentApi('dvm-store-locked-');
  const other = new DatabaseSync(join(home, 'agent.db'));
  try {
    agent.db.exec('PRAGMA busy_timeout = 100');
    other.exec('BEGIN IMMEDIATE');
    const locked = await execute('locked');
    assert.equal(locked.statusCode, 503, locked.body);
    assert.equal(locked.json().code, 'DVM_STORE_UNAVAILABLE');
    assert.match(locked.json().message, /locked by another process/);
    other.exec('ROLLBACK');
    assert.equal((await execute('unlocked')).statusCode, 200);
  } finally {
    other.close();
    await close();
  }
});

test('an agent database that became read-only: execute answers 503 DVM_STORE_UNAVAILABLE with the fix, health drains it, and both recover', async () => {
  const { agent, app, execute, close } = await agentApi('dvm-store-readonly-');
  try {
    const health = () => app.inject({ method: 'GET', url: '/v1/health' });
    assert.equal((await execute('before')).statusCode, 200);
    // SQLite refuses every write of this connection as it does a read-only file: SQLITE_READONLY.
    agent.db.exec('PRAGMA query_only = ON');
    const refused = await execute('readonly');
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json().code, 'DVM_STORE_UNAVAILABLE');
    assert.match(refused.json().details.fix, /writable for this user/);
    assert.equal((await health()).statusCode, 503, 'a load balancer drains an agent that cannot record');
    agent.db.exec('PRAGMA query_only = OFF');
    assert.equal((await execute('after')).statusCode, 200);
    assert.equal((await health()).statusCode, 200);
  } finally {
    await close();
  }
});

test('after a failed write, the store reads as unavailable only for a while, so a drained agent is offered traffic again', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-store-hold-'));
  const agent = await openAgent(home);
  try {
    assert.ok(agent.writer);
    agent.writer.failure = { message: 'database or disk is full', since: 'then', lastAt: Date.now() };
    assert.equal((await agent.health()).connectors.store.status, 'unavailable');
    agent.writer.failure.lastAt = Date.now() - WRITE_FAILURE_HOLD_MS - 1;
    assert.equal((await agent.health()).connectors.store.status, 'ok');
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('systemError: SQLite full and I/O errors are DVM_STORE_UNAVAILABLE; other SQLite errors are not', () => {
  const sqlite = (message: string, errcode: number) =>
    Object.assign(new Error(message), { code: 'ERR_SQLITE_ERROR', errcode, errstr: message });
  assert.equal(systemError(sqlite('database or disk is full', 13))?.code, 'DVM_STORE_UNAVAILABLE');
  assert.equal(systemError(sqlite('disk I/O error', 10))?.code, 'DVM_STORE_UNAVAILABLE');
  assert.equal(systemError(sqlite('database is locked', 5))?.code, 'DVM_STORE_UNAVAILABLE');
  assert.equal(systemError(sqlite('UNIQUE constraint failed: tokens.name', 19)), undefined);
  assert.equal(systemError(new Error('database or disk is full')), undefined, 'only SQLite errors');
});
