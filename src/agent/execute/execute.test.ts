import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActionContext, ActionDefinition } from '../../actions/action.ts';
import { DEFAULT_ARTIFACT_MAX_BYTES } from '../../actions/artifact.ts';
import { createMemoryLog } from '../../actions/log-file.ts';
import { ActionRegistry } from '../../actions/registry.ts';
import { openAgent } from '../agent.ts';
import { approveConfirmation } from '../auth/approvals.ts';
import { LOCAL_PRINCIPAL, type Principal, tokenPrincipal } from '../auth/principal.ts';
import { type ExecutionEvent, INTERRUPTED_EVENT_ID } from './executions.ts';

type OpenedAgent = Awaited<ReturnType<typeof openAgent>>;

// Opens an agent in a fresh home for one test, and closes and removes both whatever the test did.
async function withAgent(
  options: Parameters<typeof openAgent>[1],
  body: (agent: OpenedAgent) => Promise<void>,
): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  const agent = await openAgent(home, options);
  try {
    await body(agent);
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
}

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

// A follow that returns what it gathered once stopped, as docker.logs does.
function gatheringFollow(): ActionDefinition {
  return {
    ...slowRead({ n: 0 }),
    name: 'docker.logs',
    longRunning: () => true,
    async handler(_input: unknown, context: ActionContext) {
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
      return { gathered: true };
    },
  } as ActionDefinition;
}

test('a read runs once for concurrent repeats, conflicts on another payload, and is recorded only when it ended', async () => {
  const calls = { n: 0 };
  await withAgent({ registry: new ActionRegistry().register(slowRead(calls)) }, async (agent) => {
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
  });
});

test('log events stop at the output cap with one truncated event; progress and the end still stream', async () => {
  const line = 'x'.repeat(299);
  const flood = {
    ...slowRead({ n: 0 }),
    async handler(_input: unknown, context: ActionContext) {
      // 2 × 5,000 lines of 300 bytes (with their newline): about 3 MB against the 1 MiB cap.
      for (let i = 0; i < 5000; i++) context.emit?.({ type: 'log', stream: 'stdout', line });
      for (let i = 0; i < 5000; i++) context.log.write('stderr', `${line}\n`);
      context.emit?.({ type: 'progress', message: 'done flooding' });
      return { ok: true };
    },
  } as ActionDefinition;
  await withAgent({ registry: new ActionRegistry().register(flood) }, async (agent) => {
    const answer = await agent.executor.execute(
      { request_id: 'flood', action: 'system.info', target: { env: 'dev' } },
      LOCAL_PRINCIPAL,
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const events: ExecutionEvent[] = [];
    agent.executions.subscribe(
      String(answer.body.execution_id),
      0,
      (e) => events.push(e),
      () => {},
    );
    const logs = events.filter((e) => e.type === 'log');
    const streamed = logs.reduce((n, e) => n + String(e.data.line).length + 1, 0);
    assert.equal(logs.length, Math.floor(DEFAULT_ARTIFACT_MAX_BYTES / 300));
    assert.deepEqual(
      events.slice(logs.length + 1).map((e) => [e.type, e.data]),
      [
        ['truncated', { max_bytes: DEFAULT_ARTIFACT_MAX_BYTES, streamed_bytes: streamed }],
        ['progress', { message: 'done flooding' }],
        ['completed', { result: { ok: true } }],
      ],
    );
    await agent.audit.close();
    const stored = agent.db
      .prepare('SELECT count(*) AS n, sum(length(event)) AS bytes FROM execution_events')
      .get() as { n: number; bytes: number };
    assert.equal(stored.n, logs.length + 2, 'the log events, truncated and progress');
    assert.ok(stored.bytes < 1.5 * DEFAULT_ARTIFACT_MAX_BYTES, `${stored.bytes} bytes of stored events`);
  });
});

test('a repeat of a long-running request_id gets the same 202 at once while it runs, its end once it ended', async () => {
  const follow = {
    ...slowRead({ n: 0 }),
    name: 'docker.logs',
    longRunning: () => true,
    async handler() {
      await sleep(1500);
      return { followed: true };
    },
  } as ActionDefinition;
  await withAgent({ registry: new ActionRegistry().register(follow) }, async (agent) => {
    const request = { request_id: 'follow-1', action: 'docker.logs', target: { env: 'dev' } };
    const first = await agent.executor.execute(request, LOCAL_PRINCIPAL);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    await sleep(100);
    const started = performance.now();
    const repeat = await agent.executor.execute(request, LOCAL_PRINCIPAL);
    assert.ok(performance.now() - started < 500, `answered after ${performance.now() - started} ms`);
    assert.deepEqual(repeat, { ...first, replayed: true });
    assert.equal(first.replayed, undefined);
    const conflict = await agent.executor.execute({ ...request, target: { env: 'stage' } }, LOCAL_PRINCIPAL);
    assert.equal(conflict.status, 409);
    await sleep(1700);
    const ended = await agent.executor.execute(request, LOCAL_PRINCIPAL);
    assert.equal(ended.status, 200);
    assert.equal(ended.replayed, true);
    assert.equal(ended.body.execution_id, first.body.execution_id);
    assert.deepEqual(ended.body.result, { followed: true });
  });
});

test("a token named like the local admin is another principal: the local admin's request ids are not its", async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  const calls = { n: 0 };
  const agent = await openAgent(home, { registry: new ActionRegistry().register(slowRead(calls)) });
  const impostor: Principal = {
    id: 'token/0badc0de',
    name: 'local',
    role: 'viewer',
    owner: 'local',
    via: 'token',
  };
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

test('closing the agent stops a running follow: its execution is recorded as ended, not left running', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  const endless = {
    ...slowRead({ n: 0 }),
    longRunning: () => true,
    async handler(_input: unknown, context: ActionContext) {
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
      throw context.signal.reason;
    },
  } as ActionDefinition;
  const agent = await openAgent(home, { registry: new ActionRegistry().register(endless) });
  const accepted = await agent.executor.execute(
    { request_id: 'follow-1', action: 'system.info', target: { env: 'dev' } },
    LOCAL_PRINCIPAL,
  );
  assert.equal(accepted.status, 202);
  const started = performance.now();
  await agent.close();
  assert.ok(performance.now() - started < 2000, 'close did not wait for the follow to end by itself');
  const reopened = await openAgent(home, { registry: new ActionRegistry().register(endless) });
  try {
    const execution = reopened.executions.get(String(accepted.body.execution_id));
    assert.equal(execution.status, 'failed');
    assert.match(JSON.stringify(execution.error), /DVM_CANCELLED.*the agent is stopping/);
  } finally {
    await reopened.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('an invalid input answer does not echo a secret the value carried (a bearer token, a password in a URL)', async () => {
  await withAgent({}, async (agent) => {
    const bearer = `dvm_0123abcd_${'x'.repeat(43)}`;
    for (const container of [`web Bearer ${bearer}`, 'https://u:hunter2@example.com/web']) {
      const answer = await agent.executor.execute(
        {
          request_id: `r-${container.length}`,
          action: 'docker.logs',
          params: { container },
          target: { env: 'dev' },
        },
        LOCAL_PRINCIPAL,
      );
      assert.equal(answer.status, 422);
      const text = JSON.stringify(answer.body);
      assert.ok(!text.includes(bearer) && !text.includes('hunter2'), text);
      assert.match(text, /REDACTED/);
    }
  });
});

test('the run of an approved confirmation names its approver in the allowed audit entry', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  mkdirSync(join(home, 'policies'));
  copyFileSync('examples/policies/two-person-prod.cedar', join(home, 'policies', 'two-person-prod.cedar'));
  const write = {
    name: 'notify.alert',
    version: '1.0.0',
    description: 'a write (test)',
    risk: 'write',
    inputSchema: { type: 'object', additionalProperties: false, properties: {} },
    outputSchema: { type: 'object' },
    async handler() {
      return { sent: true };
    },
  } as ActionDefinition;
  const agent = await openAgent(home, { registry: new ActionRegistry().register(write) });
  try {
    // Both hold real tokens: a challenge waits while its requester's is valid, an approval counts while the approver's is.
    const alice = agent.tokens.authenticate(`Bearer ${agent.tokens.create('alice', 'operator').token}`);
    const bob = agent.tokens.authenticate(`Bearer ${agent.tokens.create('bob', 'operator').token}`);
    const request = { request_id: 'two-1', action: 'notify.alert', target: { env: 'prod' } };
    const challenge = await agent.executor.execute(request, alice);
    assert.equal(challenge.status, 428);
    const token = (challenge.body.details as { challenge: { confirmation_token: string } }).challenge
      .confirmation_token;
    await approveConfirmation(agent, token, bob);
    const ran = await agent.executor.execute({ ...request, confirmation_token: token }, alice);
    assert.equal(ran.status, 200, JSON.stringify(ran.body));
    const allowed = agent.audit
      .query({ requestId: 'two-1', decision: 'allowed' })
      .items.find((e) => e.executionId !== undefined);
    assert.ok(allowed?.reasons?.includes('approved by bob'), JSON.stringify(allowed));
    // Its repeat is answered with that answer; its audit entry does not read as the gates passing again.
    const repeat = await agent.executor.execute(request, alice);
    assert.equal(repeat.status, 200);
    assert.equal(repeat.replayed, true);
    const repeated = agent.audit.query({ requestId: 'two-1', decision: 'allowed' }).items.at(-1);
    assert.deepEqual(
      [repeated?.policyIds, repeated?.reasons],
      [
        undefined,
        [
          'a repeat of this request_id: answered with the first request’s answer (its confirmation was checked then; nothing runs again)',
        ],
      ],
    );
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('cancel stops one running execution: it ends failed with DVM_CANCELLED, recorded and audited; the others run on', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  const follow = gatheringFollow();
  const agent = await openAgent(home, { registry: new ActionRegistry().register(follow) });
  const bob: Principal = { id: 'token/b0b00000', name: 'bob', role: 'admin', owner: 'bob', via: 'token' };
  try {
    const start = async (request_id: string) => {
      const answer = await agent.executor.execute(
        { request_id, action: 'docker.logs', target: { env: 'dev' } },
        LOCAL_PRINCIPAL,
      );
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      return String(answer.body.execution_id);
    };
    const [one, other] = [await start('c-1'), await start('c-2')];
    const events: ExecutionEvent[] = [];
    agent.executions.subscribe(
      one,
      0,
      (e) => events.push(e),
      () => {},
    );
    assert.equal(agent.executor.runs(one), true);
    const record = await agent.executor.cancel(one, bob);
    assert.equal(record?.status, 'failed');
    assert.equal(record?.error?.code, 'DVM_CANCELLED');
    assert.equal(record?.error?.message, 'cancelled by bob');
    assert.equal(events.at(-1)?.type, 'failed', 'subscribers got the end');
    const stored = agent.db.prepare('SELECT status, error FROM executions WHERE id = ?').get(one) as {
      status: string;
      error: string;
    };
    assert.equal(stored.status, 'failed', 'the end was committed before cancel resolved');
    assert.match(stored.error, /DVM_CANCELLED/);
    const failed = agent.audit.query({ requestId: 'c-1', decision: 'failed' }).items;
    assert.equal(failed.length, 1);
    assert.equal(failed[0].error?.code, 'DVM_CANCELLED');
    assert.equal(agent.executor.runs(one), false, 'its entry went with its end');
    assert.equal(await agent.executor.cancel(one, bob), undefined, 'a second cancel finds nothing to stop');
    assert.equal(agent.executor.runs(other), true, 'the other execution runs on');
    assert.equal(agent.executions.get(other).status, 'running');
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('a closing server stops what requests run (follows at once, others after the drain), never a pipeline task’s action, whose follow takes no request slot', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  limits: {follows: 1, follows_per_principal: 1}\n');
  const follow = gatheringFollow();
  const agent = await openAgent(home, { registry: new ActionRegistry().register(follow) });
  const task = new AbortController();
  try {
    // A pipeline task's follow (it has the task's context) runs to its run's end.
    const inTask = agent.executor.execute(
      { request_id: 'task-follow', action: 'docker.logs', target: { env: 'pipeline' } },
      LOCAL_PRINCIPAL,
      {
        wait: true,
        context: { signal: task.signal, workdir: home, env: {}, log: createMemoryLog({}), resultsDir: home },
      },
    );
    await sleep(20);
    // The agent's one follow slot is still free for a request.
    const request = await agent.executor.execute(
      { request_id: 'api-follow', action: 'docker.logs', target: { env: 'dev' } },
      LOCAL_PRINCIPAL,
    );
    assert.equal(request.status, 202, JSON.stringify(request.body));
    const started = performance.now();
    await agent.executor.stopRequests(60_000);
    assert.ok(performance.now() - started < 5000, 'a follow is stopped at once, not after the drain');
    const stopped = agent.executions.get(String(request.body.execution_id));
    assert.equal(stopped.status, 'failed');
    assert.equal(stopped.error?.code, 'DVM_CANCELLED');
    const running = agent.executions
      .list({ status: 'running', limit: 10 } as never)
      .items.map((e) => e.request_id);
    assert.deepEqual(running, ['task-follow'], 'the task’s action runs on');
    // Its run ending stops it: a follow stopped by anything but a cancel answers what it gathered.
    task.abort(new Error('the run ended'));
    assert.equal((await inTask).status, 200);
  } finally {
    task.abort();
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});

// A write that never ends on its own: it waits for its signal (a timeout or a cancel).
function hangingWrite(maxMs: number): ActionDefinition {
  return {
    ...slowRead({ n: 0 }),
    name: 'notify.alert', // a write the default allowlist enables
    risk: 'write',
    timeouts: { defaultMs: 30_000, maxMs },
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string' }, count: { type: 'integer' } },
    },
    async handler(_input: unknown, context: ActionContext) {
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
      return {};
    },
  } as ActionDefinition;
}

test('a write cancelled while it runs ends DVM_CANCELLED with its outcome unknown: check the target, not "run it again"', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  const agent = await openAgent(home, { registry: new ActionRegistry().register(hangingWrite(60_000)) });
  const bob: Principal = { id: 'token/b0b00000', name: 'bob', role: 'admin', owner: 'bob', via: 'token' };
  try {
    const answer = agent.executor.execute(
      { request_id: 'w-cancel', action: 'notify.alert', params: { name: 'x' }, target: { env: 'dev' } },
      LOCAL_PRINCIPAL,
    );
    let id: string | undefined;
    while (id === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      id = agent.executor.runningIds()[0];
    }
    await agent.executor.cancel(id, bob);
    const ended = await answer;
    assert.equal(ended.body.code, 'DVM_CANCELLED');
    assert.match(
      String(ended.body.message),
      /^cancelled by bob: notify\.alert was stopped, but what it had already asked for may have happened$/,
    );
    const details = ended.body.details as { outcome?: string; cancelled_by?: string; fix?: string };
    assert.equal(details.outcome, 'unknown');
    assert.equal(details.cancelled_by, 'bob');
    assert.match(String(details.fix), /Check the target's state/);
    assert.equal(agent.executions.get(id).error?.code, 'DVM_CANCELLED');
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("a request's timeout ends its action with DVM_TIMEOUT (504), recorded and audited; a longer one is held to the action's maximum", async () => {
  await withAgent({ registry: new ActionRegistry().register(hangingWrite(150)) }, async (agent) => {
    const run = (request_id: string, timeout: string) =>
      agent.executor.execute(
        { request_id, action: 'notify.alert', params: { name: 'a' }, target: { env: 'dev' }, timeout },
        LOCAL_PRINCIPAL,
      );
    const short = await run('t1', '40ms');
    assert.equal(short.status, 504, JSON.stringify(short.body));
    assert.equal(short.body.code, 'DVM_TIMEOUT');
    assert.match(String(short.body.message), /took longer than 40 ms/);
    const started = performance.now();
    const long = await run('t2', '1h');
    assert.equal(long.status, 504);
    assert.match(String(long.body.message), /took longer than 150 ms/, 'held to the maximum, not an hour');
    assert.ok(performance.now() - started < 5000);
    const ended = agent.db.prepare("SELECT count(*) AS n FROM executions WHERE status = 'failed'").get() as {
      n: number;
    };
    assert.equal(ended.n, 2);
    const failed = agent.audit.query({ requestId: 't1' }).items.filter((e) => e.decision === 'failed');
    assert.equal(failed[0]?.error?.code, 'DVM_TIMEOUT');
  });
});

test('a handler that fails because it was stopped (a client library’s AbortError) ends DVM_TIMEOUT, saying a write’s outcome is unknown', async () => {
  const aborting = {
    ...hangingWrite(60_000),
    // As dockerode does: the request it was making rejects with a plain AbortError once the signal fires.
    async handler(_input: unknown, context: ActionContext) {
      await new Promise((_, reject) =>
        context.signal.addEventListener(
          'abort',
          () => reject(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' })),
          { once: true },
        ),
      );
      return {};
    },
  } as ActionDefinition;
  await withAgent({ registry: new ActionRegistry().register(aborting) }, async (agent) => {
    const answer = await agent.executor.execute(
      {
        request_id: 'a1',
        action: 'notify.alert',
        params: { name: 'a' },
        target: { env: 'dev' },
        timeout: '30ms',
      },
      LOCAL_PRINCIPAL,
    );
    assert.equal(answer.status, 504, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'DVM_TIMEOUT');
    assert.match(
      String(answer.body.message),
      /took longer than 30 ms: it was stopped, but .* may have happened/,
    );
    const details = answer.body.details as { timeout_ms: number; outcome: string; fix: string };
    assert.deepEqual([details.timeout_ms, details.outcome], [30, 'unknown']);
    assert.match(details.fix, /Check the target's state before running it again/);
    const failed = agent.audit.query({ requestId: 'a1' }).items.filter((e) => e.decision === 'failed');
    assert.equal(failed[0]?.error?.code, 'DVM_TIMEOUT');
  });
});

test('a follow without a timeout runs up to its action’s maximum, not its default (as kubectl logs -f runs until stopped)', async () => {
  const follow = { ...gatheringFollow(), timeouts: { defaultMs: 50, maxMs: 600 } } as ActionDefinition;
  await withAgent({ registry: new ActionRegistry().register(follow) }, async (agent) => {
    const started = performance.now();
    const answer = await agent.executor.execute(
      { request_id: 'f1', action: 'docker.logs', target: { env: 'dev' } },
      LOCAL_PRINCIPAL,
      { wait: true },
    );
    const took = performance.now() - started;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(took >= 550, `it ran ${Math.round(took)} ms: stopped at its default`);
    const bounded = await agent.executor.execute(
      { request_id: 'f2', action: 'docker.logs', target: { env: 'dev' }, timeout: '60ms' },
      LOCAL_PRINCIPAL,
      { wait: true },
    );
    assert.equal(bounded.status, 200, 'a timeout given still ends it, with what it gathered');
  });
});

test('an invalid request lists every violation at once: the envelope’s and its params’ (under params.)', async () => {
  await withAgent({ registry: new ActionRegistry().register(hangingWrite(150)) }, async (agent) => {
    const answer = await agent.executor.execute(
      {
        request_id: 'v1',
        action: 'notify.alert',
        params: { count: 'many', colour: 'red' },
        target: { env: 'Not An Env' },
        timeout: 'soon',
      },
      LOCAL_PRINCIPAL,
    );
    assert.equal(answer.status, 422);
    assert.equal(answer.body.code, 'DVM_REQUEST_INVALID');
    const causes = (answer.body.details as { causes: { path: string; code: string }[] }).causes;
    assert.deepEqual(causes.map((c) => c.path).sort(), [
      'params.colour',
      'params.count',
      'params.name',
      'target.env',
      'timeout',
    ]);
    assert.equal(causes.find((c) => c.path === 'params.count')?.code, 'DVM_ACTION_INPUT_INVALID');
    // An unknown action has no params to check: the envelope's violations alone.
    const unknown = await agent.executor.execute(
      { request_id: 'v2', action: 'svc.nope', params: { x: 1 }, target: { env: 'BAD' } },
      LOCAL_PRINCIPAL,
    );
    assert.deepEqual(
      (unknown.body.details as { causes: { path: string }[] }).causes.map((c) => c.path),
      ['target.env'],
    );
  });
});

test('a target label with a control character or a bidirectional override is refused (it could fake lines an approver reads)', async () => {
  await withAgent({}, async (agent) => {
    const answer = await agent.executor.execute(
      {
        request_id: 'ctl-1',
        action: 'system.info',
        target: {
          env: 'dev',
          note: 'x\u001b[2K\u001b[1Gconfirmation: docker.logs on env=dev',
          'bad\nkey': 'v',
          rtl: 'abc\u202edef',
          nested: { text: 'a\u0085b' },
          fine: 'eu-west-1 ünïcode 😀',
        },
      } as never,
      LOCAL_PRINCIPAL,
    );
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    const causes = (answer.body.details as { causes: { path: string }[] }).causes;
    assert.deepEqual(
      causes.map((c) => c.path),
      ['target.note', 'target.bad?key', 'target.rtl'],
      'at most three named; printable labels are fine',
    );
    // Nested, in a text or in a key, alone: refused the same.
    for (const [n, nested] of [
      [3, { text: 'a\u001b[2Kb' }],
      [4, { list: ['ok', 'a\u0085b'] }],
      [5, { 'k\u202e': 'v' }],
    ] as const) {
      const deep = await agent.executor.execute(
        { request_id: `ctl-${n}`, action: 'system.info', target: { env: 'dev', nested } } as never,
        LOCAL_PRINCIPAL,
      );
      assert.equal(deep.status, 422, JSON.stringify(nested));
      assert.deepEqual(
        (deep.body.details as { causes: { path: string }[] }).causes.map((c) => c.path),
        ['target.nested'],
      );
    }
    const fine = await agent.executor.execute(
      { request_id: 'ctl-2', action: 'system.info', target: { env: 'dev', fine: 'eu-west-1 ünïcode 😀' } },
      LOCAL_PRINCIPAL,
    );
    assert.equal(fine.status, 200, JSON.stringify(fine.body));
  });
});

test('an invalid field named like a secret is named in the message, not redacted as if it were a value', async () => {
  await withAgent({}, async (agent) => {
    const envelope = await agent.executor.execute(
      {
        request_id: 'named-1',
        action: 'system.info',
        target: { env: 'dev' },
        confirmation_token: 5,
      } as never,
      LOCAL_PRINCIPAL,
    );
    assert.equal(envelope.status, 422);
    assert.equal(
      envelope.body.message,
      'the execute request is not valid: confirmation_token must be a string',
    );
    const input = await agent.executor.execute(
      {
        request_id: 'named-2',
        action: 'system.info',
        params: { password: 5 },
        target: { env: 'dev' },
      },
      LOCAL_PRINCIPAL,
    );
    assert.equal(input.status, 422);
    assert.match(String(input.body.message), /not valid: password is not an input of system\.info/);
  });
});

test('a target over 32 keys, params over 256 keys or a body of over 10,000 object keys is refused before policy sees them; a long list is not', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-execute-'));
  const agent = await openAgent(home);
  const keys = (n: number, first: Record<string, string> = {}) => {
    const map: Record<string, string> = { ...first };
    for (let i = Object.keys(map).length; i < n; i++) map[`k${i}`] = 'v';
    return map;
  };
  try {
    const over = await agent.executor.execute(
      {
        request_id: 'many-1',
        action: 'notify.alert',
        params: keys(257, { message: 'm' }),
        target: keys(33, { env: 'dev' }) as { env: string },
        dry_run: true,
      },
      LOCAL_PRINCIPAL,
    );
    assert.equal(over.status, 422);
    const causes = (over.body.details as { causes: { path: string; message: string }[] }).causes;
    assert.deepEqual(causes.map((c) => c.path).sort(), ['params', 'target']);
    assert.match(causes.find((c) => c.path === 'target')?.message ?? '', /more than 32 keys/);
    const atLimit = await agent.executor.execute(
      {
        request_id: 'many-2',
        action: 'notify.alert',
        params: keys(256, { message: 'm' }),
        target: keys(32, { env: 'dev' }) as { env: string },
        dry_run: true,
      },
      LOCAL_PRINCIPAL,
    );
    assert.equal(atLimit.status, 200, JSON.stringify(atLimit.body));
    // Nested keys count too: more than 10,000 in all is too large to walk (validation, tags, redaction, audit).
    const wide = await agent.executor.execute(
      {
        request_id: 'many-3',
        action: 'notify.alert',
        params: { message: 'm', details: keys(10_000) },
        target: { env: 'dev' },
        dry_run: true,
      },
      LOCAL_PRINCIPAL,
    );
    assert.equal(wide.status, 413, JSON.stringify(wide.body).slice(0, 300));
    assert.equal(wide.body.code, 'DVM_REQUEST_TOO_LARGE');
    assert.equal((wide.body.details as { max_keys: number }).max_keys, 10_000);
    // A list of values does not count: data.delete takes up to 100,000 keys.
    const list = await agent.executor.execute(
      {
        request_id: 'many-4',
        action: 'notify.alert',
        params: { message: 'm', details: { keys: Array.from({ length: 20_000 }, (_, i) => i) } },
        target: { env: 'dev' },
        dry_run: true,
      },
      LOCAL_PRINCIPAL,
    );
    assert.equal(list.status, 200, JSON.stringify(list.body).slice(0, 300));
    // Lists have their limit too, at data.delete's 100,000 keys: a megabyte of list items held the event loop.
    const items = await agent.executor.execute(
      {
        request_id: 'many-5',
        action: 'system.info',
        target: { env: 'dev', many: Array.from({ length: 100_001 }, () => 'a') },
      } as never,
      LOCAL_PRINCIPAL,
    );
    assert.equal(items.status, 413, JSON.stringify(items.body).slice(0, 300));
    assert.equal((items.body.details as { max_items: number }).max_items, 100_000);
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('an app or dependency instance an action does not find answers DVM_TARGET_NOT_FOUND, as every action does', async () => {
  await withAgent({}, async (agent) => {
    for (const [action, params] of [
      ['service.restart', { target: 'no-such-app' }],
      ['data.backup', { target: 'no-such-instance' }],
    ] as const) {
      const answer = await agent.executor.execute(
        { request_id: `missing-${action}`, action, params, target: { env: 'dev' } },
        LOCAL_PRINCIPAL,
      );
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.equal(answer.body.code, 'DVM_TARGET_NOT_FOUND', action);
      assert.match(String(answer.body.message), /no-such-/, action);
      assert.ok((answer.body.details as { fix?: string }).fix, `${action}: the fix is kept`);
    }
  });
});

test("an execution's end, its audit entries and its request id's answer commit together: an audit write that fails leaves none of them", async () => {
  const calls = { n: 0 };
  await withAgent({ registry: new ActionRegistry().register(slowRead(calls)) }, async (agent) => {
    agent.db.exec(
      "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
    );
    const answer = await agent.executor.execute(
      { request_id: 'atomic-1', action: 'system.info', target: { env: 'dev' } },
      LOCAL_PRINCIPAL,
    );
    assert.equal(calls.n, 1, 'the read ran');
    assert.ok(answer.status >= 500, JSON.stringify(answer));
    const count = (table: string) =>
      (agent.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    assert.deepEqual(
      [count('executions'), count('idempotency'), count('audit')],
      [0, 0, 0],
      'no run recorded without its audit entry',
    );
    agent.db.exec('DROP TRIGGER refuse_audit');
    const again = await agent.executor.execute(
      { request_id: 'atomic-1', action: 'system.info', target: { env: 'dev' } },
      LOCAL_PRINCIPAL,
    );
    assert.equal(again.status, 200, 'nothing was kept of the failed one: the retry runs');
    assert.deepEqual([count('executions'), count('idempotency'), count('audit')], [1, 1, 2]);
    assert.equal(agent.audit.verify().ok, true);
  });
});

test('a claimed write whose end cannot be recorded answers its request id as interrupted: a repeat neither hangs nor runs it again, and its stream ends failed', async () => {
  const calls = { n: 0 };
  const write = {
    ...slowRead(calls),
    name: 'notify.alert',
    risk: 'write',
    async handler() {
      calls.n++;
      return { sent: true };
    },
  } as ActionDefinition;
  await withAgent({ registry: new ActionRegistry().register(write) }, async (agent) => {
    // The claim (key, execution, allowed entry) commits; the end (its executed entry) cannot.
    agent.db.exec(
      "CREATE TRIGGER refuse_end BEFORE INSERT ON audit WHEN NEW.decision IN ('executed', 'failed') BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
    );
    const request = { request_id: 'w1', action: 'notify.alert', target: { env: 'dev' } };
    let executionId = '';
    const first = await agent.executor.execute(request, LOCAL_PRINCIPAL, {
      onStart: (id) => {
        executionId = id;
      },
    });
    // The first answer says the action ran (so nobody runs it again under a new request_id).
    assert.equal(first.status, 500, JSON.stringify(first));
    assert.equal(first.body.code, 'DVM_EXECUTION_INTERRUPTED');
    assert.match(String(first.body.message), /ran, but its end could not be recorded/);
    const row = agent.db.prepare('SELECT status, error FROM executions WHERE id = ?').get(executionId) as {
      status: string;
      error: string;
    };
    assert.equal(row.status, 'interrupted');
    assert.match(JSON.parse(row.error).message, /ran, but its end could not be recorded: audit refused/);
    agent.db.exec('DROP TRIGGER refuse_end');
    const repeat = await agent.executor.execute(request, LOCAL_PRINCIPAL);
    assert.equal(repeat.status, 500);
    assert.equal(repeat.body.code, 'DVM_EXECUTION_INTERRUPTED');
    assert.equal(calls.n, 1, 'never run twice');
    const events: ExecutionEvent[] = [];
    await new Promise<void>((resolve) => {
      agent.executions.subscribe(
        executionId,
        0,
        (e) => events.push(e),
        () => resolve(),
      );
    });
    assert.deepEqual(
      events.map((e) => e.type),
      ['started', 'failed'],
    );
    assert.equal((events[1].data.error as { code: string }).code, 'DVM_EXECUTION_INTERRUPTED');
    assert.equal(events[1].id, INTERRUPTED_EVENT_ID, 'the id it has on replay too');
  });
});

test('a refused request keeps at most 4 KiB of its params in the audit (size, SHA-256 and names), an allowed one all of them', async () => {
  await withAgent({}, async (agent) => {
    const viewer = tokenPrincipal('b1e3e700', 'vic', 'viewer');
    const message = 'x'.repeat(900_000);
    for (let i = 0; i < 5; i++) {
      const answer = await agent.executor.execute(
        { request_id: `big-${i}`, action: 'notify.alert', params: { message }, target: { env: 'dev' } },
        viewer,
      );
      assert.equal(answer.status, 403);
    }
    const small = await agent.executor.execute(
      {
        request_id: 'small',
        action: 'notify.alert',
        params: { message: 'disk full' },
        target: { env: 'dev' },
      },
      viewer,
    );
    assert.equal(small.status, 403);
    const denied = agent.audit.query({ decision: 'denied' }).items;
    const big = denied.filter((e) => e.requestId?.startsWith('big-'));
    assert.equal(big.length, 5);
    for (const entry of big) {
      const cut = (entry.params as { '[cut]': { bytes: number; sha256: string; names: string[] } })['[cut]'];
      assert.ok(cut.bytes > 900_000, JSON.stringify(entry.params));
      assert.match(cut.sha256, /^[0-9a-f]{64}$/);
      assert.ok(cut.names.includes('message'));
    }
    assert.equal(
      (denied.find((e) => e.requestId === 'small')?.params as { message?: string } | undefined)?.message,
      'disk full',
    );
    const largest = agent.db.prepare('SELECT max(length(entry)) AS n FROM audit').get() as { n: number };
    assert.ok(largest.n < 8192, `the largest audit entry holds ${largest.n} characters`);
    assert.equal(agent.audit.verify().ok, true);
  });
});

test("an action's least time raises its default timeout and refuses a shorter timeout (a restart's grace period)", async () => {
  const patient = {
    name: 'system.info',
    version: '1.0.0',
    description: 'a write that needs its grace (test)',
    risk: 'write',
    timeouts: { defaultMs: 100, maxMs: 5000 },
    inputSchema: { type: 'object', additionalProperties: false, properties: { grace: { type: 'integer' } } },
    outputSchema: { type: 'object' },
    minTimeoutMs: (input: { grace?: number }) => (input.grace ?? 0) + 300,
    async handler(input: { grace?: number }, context: ActionContext) {
      await sleep(input.grace ?? 0, undefined, { signal: context.signal });
      return { waited: input.grace };
    },
  } as unknown as ActionDefinition;
  await withAgent({ registry: new ActionRegistry().register(patient) }, async (agent) => {
    const run = (request_id: string, extra: Record<string, unknown>) =>
      agent.executor.execute(
        { request_id, action: 'system.info', params: { grace: 400 }, target: { env: 'dev' }, ...extra },
        LOCAL_PRINCIPAL,
      );
    const raised = await run('default', {});
    assert.equal(raised.status, 200, JSON.stringify(raised.body));
    const short = await run('short', { timeout: '200ms' });
    assert.equal(short.status, 422);
    assert.equal(short.body.code, 'DVM_REQUEST_INVALID');
    assert.equal((short.body.details as { path: string; min_timeout_ms: number }).path, 'timeout');
    assert.equal((short.body.details as { min_timeout_ms: number }).min_timeout_ms, 700);
    assert.match(String(short.body.message), /timeout 200ms is shorter than the 0\.7 s system\.info needs/);
    assert.equal((await run('enough', { timeout: '1s' })).status, 200);
  });
});
