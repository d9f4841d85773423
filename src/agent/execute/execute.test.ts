import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActionDefinition } from '../../actions/action.ts';
import { ActionRegistry } from '../../actions/registry.ts';
import { openAgent } from '../agent.ts';
import { LOCAL_PRINCIPAL, type Principal } from '../auth/principal.ts';

// A read action that takes a while, so repeats of its request_id arrive while it still runs.
function slowRead(calls: { n: number }): ActionDefinition {
  return {
    name: 'system.info',
    version: '1.0.0',
    description: 'a slow read (test)',
    risk: 'read',
    inputSchema: { type: 'object', additionalProperties: false, properties: {} },
    outputSchema: { type: 'object' },
    async handler() {
      calls.n++;
      await sleep(50);
      return { n: calls.n };
    },
  } as ActionDefinition;
}

test('a read runs once for concurrent repeats, conflicts on another payload, and is recorded only when it ended', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  const calls = { n: 0 };
  const agent = await openAgent(home, { registry: new ActionRegistry().register(slowRead(calls)) });
  try {
    const request = { request_id: 'r1', action: 'system.info', target: { env: 'dev' } };
    const first = agent.executor.execute(request, LOCAL_PRINCIPAL);
    await sleep(10);
    const count = (sql: string) => (agent.db.prepare(sql).get() as { n: number }).n;
    assert.equal(count('SELECT count(*) AS n FROM idempotency'), 0, 'nothing written while the read runs');
    assert.equal(count('SELECT count(*) AS n FROM executions'), 0);
    const repeats = Array.from({ length: 20 }, () => agent.executor.execute(request, LOCAL_PRINCIPAL));
    const conflict = await agent.executor.execute({ ...request, target: { env: 'stage' } }, LOCAL_PRINCIPAL);
    assert.equal(conflict.status, 409);
    const answers = await Promise.all([first, ...repeats]);
    assert.equal(calls.n, 1, 'the handler ran once');
    assert.ok(
      answers.every((a) => a.status === 200 && JSON.stringify(a.body) === JSON.stringify(answers[0].body)),
    );
    const later = await agent.executor.execute(request, LOCAL_PRINCIPAL);
    assert.deepEqual(later.body, answers[0].body, 'a repeat after it ended is answered from the store');
    assert.equal(calls.n, 1);
    assert.equal(count("SELECT count(*) AS n FROM executions WHERE status = 'succeeded'"), 1);
    const decisions = agent.audit.query({ requestId: 'r1' }).items.map((e) => e.decision);
    assert.deepEqual(decisions.slice(0, 1), ['allowed']);
    assert.equal(decisions.filter((d) => d === 'executed').length, 1);
    assert.ok(
      decisions.indexOf('executed') === decisions.lastIndexOf('allowed', decisions.indexOf('executed')) + 1,
    );
    assert.equal(agent.audit.verify().ok, true);
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("a token named like the local admin is another principal: the local admin's request ids are not its", async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  const calls = { n: 0 };
  const agent = await openAgent(home, { registry: new ActionRegistry().register(slowRead(calls)) });
  const impostor: Principal = { id: 'token/0badc0de', name: 'local', role: 'viewer', via: 'token' };
  try {
    const request = { request_id: 'cli-1', action: 'system.info', target: { env: 'dev' } };
    const local = await agent.executor.execute(request, LOCAL_PRINCIPAL);
    const replay = await agent.executor.execute(request, impostor);
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.notEqual(replay.body.execution_id, local.body.execution_id, 'not the cached answer of local');
    assert.equal(calls.n, 2, 'it ran again, as a request of its own');
    const conflict = await agent.executor.execute({ ...request, target: { env: 'stage' } }, impostor);
    assert.equal(conflict.status, 409, 'its own key, conflicting with its own first payload');
    assert.equal(agent.executions.get(String(local.body.execution_id)).principal, 'local');
    assert.equal(agent.executions.get(String(replay.body.execution_id)).principal, 'token/0badc0de');
    const entries = agent.audit.query({ requestId: 'cli-1' }).items;
    assert.deepEqual(
      [...new Set(entries.map((e) => `${e.actor} ${e.via} ${e.principal}`))],
      ['local local local', 'local token token/0badc0de'],
      'the audit keeps the name and tells the principals apart',
    );
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});
