import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActionContext, ActionDefinition } from '../../actions/action.ts';
import { createMemoryLog } from '../../actions/log-file.ts';
import { ActionRegistry } from '../../actions/registry.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import { openAgent } from '../agent.ts';
import { LOCAL_PRINCIPAL } from '../auth/principal.ts';

type Calls = { resolved: number; ran: string[] };

// A restart whose container names resolve through `names` (an alias → the name; none: no such container), after
// `delayMs`, or fail with `failure`: what canonicalContainer does against Docker, without Docker.
function aliased(
  names: Map<string, string>,
  calls: Calls,
  options: { delayMs?: number; failure?: Error } = {},
) {
  return {
    name: 'docker.restart_container',
    version: '1.0.0',
    description: 'a restart by alias (test)',
    risk: 'write',
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['container'],
      properties: { container: { type: 'string' } },
    },
    outputSchema: { type: 'object' },
    async canonicalInput(input: { container: string }, context: ActionContext) {
      calls.resolved++;
      await sleep(options.delayMs ?? 0, undefined, { signal: context.signal });
      if (options.failure) throw options.failure;
      const name = names.get(input.container);
      return name === undefined ? undefined : { ...input, container: name };
    },
    async handler(input: { container: string }) {
      calls.ran.push(input.container);
      return { restarted: input.container };
    },
  } as unknown as ActionDefinition;
}

const FREEZE = `@id("freeze")
@reason("frozen is frozen")
forbid (principal, action, resource)
when { context.params.hasTag("container") && context.params.getTag("container") == "frozen" };
`;

// An agent whose home holds `policy` (none: the default policy only), running `action`.
async function withHome(
  policy: string | undefined,
  action: ActionDefinition,
  body: (agent: Awaited<ReturnType<typeof openAgent>>) => Promise<void>,
): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'dvm-canonical-'));
  if (policy) {
    mkdirSync(join(home, 'policies'));
    writeFileSync(join(home, 'policies', 'freeze.cedar'), policy);
  }
  const agent = await openAgent(home, { registry: new ActionRegistry().register(action) });
  try {
    await body(agent);
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
}

const restart = (request_id: string, container: string, extra: Record<string, unknown> = {}) => ({
  request_id,
  action: 'docker.restart_container',
  params: { container },
  target: { env: 'dev' },
  ...extra,
});

test('a forbid on a name holds for its alias; a name nothing answers to is decided as sent', async () => {
  const calls: Calls = { resolved: 0, ran: [] };
  await withHome(FREEZE, aliased(new Map([['3f2a', 'frozen']]), calls), async (agent) => {
    const denied = await agent.executor.execute(restart('r1', '3f2a'), LOCAL_PRINCIPAL);
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    const unknown = await agent.executor.execute(restart('r2', 'nothing-by-this-name'), LOCAL_PRINCIPAL);
    assert.equal(unknown.status, 200);
    assert.deepEqual(calls.ran, ['nothing-by-this-name']);
  });
});

test('a resolution that cannot finish refuses the request (fail closed): the caller hung up, or Docker failed', async () => {
  const slow: Calls = { resolved: 0, ran: [] };
  await withHome(FREEZE, aliased(new Map([['3f2a', 'frozen']]), slow, { delayMs: 500 }), async (agent) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('the client went away')), 50);
    const answer = await agent.executor.execute(restart('r1', '3f2a'), LOCAL_PRINCIPAL, {
      signal: controller.signal,
    });
    assert.equal(answer.status, 503, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'DVM_CONNECTOR_UNAVAILABLE');
    assert.match(
      String(answer.body.message),
      /cannot tell what the params of docker\.restart_container name/,
    );
    await sleep(600);
    assert.deepEqual(slow.ran, [], 'nothing ran');
    assert.deepEqual(agent.audit.query({ requestId: 'r1' }).items, [], 'nothing was decided');
  });
  const broken: Calls = { resolved: 0, ran: [] };
  const failure = new Error('cannot reach the Docker daemon');
  await withHome(FREEZE, aliased(new Map(), broken, { failure }), async (agent) => {
    const answer = await agent.executor.execute(restart('r1', '3f2a'), LOCAL_PRINCIPAL);
    assert.equal(answer.status, 503);
    assert.match(String(answer.body.message), /cannot reach the Docker daemon\); nothing ran/);
    assert.deepEqual(broken.ran, []);
  });
});

test("an alias several things answer to is refused as the caller's to fix (409 DVM_AMBIGUOUS), never decided as sent", async () => {
  const calls: Calls = { resolved: 0, ran: [] };
  const failure = new DvmError('DVM_AMBIGUOUS', '"3f" is the start of several containers\' ids', {
    path: 'container',
    fix: 'Give more characters of the id, or the container name.',
    details: { origin: 'user' },
  });
  await withHome(FREEZE, aliased(new Map(), calls, { failure }), async (agent) => {
    const answer = await agent.executor.execute(restart('r1', '3f'), LOCAL_PRINCIPAL);
    assert.equal(answer.status, 409, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'DVM_AMBIGUOUS');
    assert.match(String(answer.body.message), /several containers' ids/);
    assert.deepEqual(calls.ran, [], 'nothing ran');
  });
});

test('a confirmation is bound to what the alias named when it was asked: another container under that alias is another request', async () => {
  const calls: Calls = { resolved: 0, ran: [] };
  const names = new Map([['3f2a', 'staging-web']]);
  await withHome(FREEZE, aliased(names, calls), async (agent) => {
    const request = { ...restart('r1', '3f2a'), target: { env: 'prod' } };
    const challenge = await agent.executor.execute(request, LOCAL_PRINCIPAL);
    assert.equal(challenge.status, 428);
    const token = (challenge.body.details as { challenge: { confirmation_token: string } }).challenge
      .confirmation_token;
    names.set('3f2a', 'prod-db'); // a container named like the alias appears: Docker answers it first
    const confirmed = await agent.executor.execute(
      { ...request, confirmation_token: token },
      LOCAL_PRINCIPAL,
    );
    assert.equal(confirmed.status, 403, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.code, 'DVM_CONFIRMATION_INVALID');
    assert.deepEqual(calls.ran, []);
    names.set('3f2a', 'staging-web');
    const again = await agent.executor.execute({ ...request, confirmation_token: token }, LOCAL_PRINCIPAL);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(calls.ran, ['staging-web']);
  });
});

test('with no policy that reads params, nothing is resolved (it could not change a decision)', async () => {
  const calls: Calls = { resolved: 0, ran: [] };
  await withHome(undefined, aliased(new Map([['3f2a', 'frozen']]), calls), async (agent) => {
    const answer = await agent.executor.execute(restart('r1', '3f2a'), LOCAL_PRINCIPAL);
    assert.equal(answer.status, 200);
    assert.equal(calls.resolved, 0);
    assert.deepEqual(calls.ran, ['3f2a']);
  });
});

test('a policy that reads params through an escaped name turns resolving on too', async () => {
  const calls: Calls = { resolved: 0, ran: [] };
  const escaped = `@id("freeze-escaped")
forbid (principal, action, resource)
when { context["\\u{70}arams"].hasTag("container") && context["\\u{70}arams"].getTag("container") == "frozen" };
`;
  await withHome(escaped, aliased(new Map([['3f2a', 'frozen']]), calls), async (agent) => {
    const denied = await agent.executor.execute(restart('r1', '3f2a'), LOCAL_PRINCIPAL);
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    assert.deepEqual(calls.ran, []);
  });
});

test('a challenge for params that name themselves still confirms after a reload turns resolving on', async () => {
  const calls: Calls = { resolved: 0, ran: [] };
  await withHome(undefined, aliased(new Map([['web', 'web']]), calls), async (agent) => {
    const request = { ...restart('r1', 'web'), target: { env: 'prod' } };
    const challenge = await agent.executor.execute(request, LOCAL_PRINCIPAL);
    assert.equal(challenge.status, 428);
    const token = (challenge.body.details as { challenge: { confirmation_token: string } }).challenge
      .confirmation_token;
    mkdirSync(join(agent.home, 'policies'));
    writeFileSync(join(agent.home, 'policies', 'freeze.cedar'), FREEZE);
    agent.policy.reload();
    const confirmed = await agent.executor.execute(
      { ...request, confirmation_token: token },
      LOCAL_PRINCIPAL,
    );
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(calls.resolved, 1, 'resolved once resolving was on');
    assert.deepEqual(calls.ran, ['web']);
  });
});

test('one principal has at most two resolutions running or waiting; past that 429, and others go on', async () => {
  const calls: Calls = { resolved: 0, ran: [] };
  await withHome(FREEZE, aliased(new Map([['a', 'web']]), calls, { delayMs: 300 }), async (agent) => {
    const alice = agent.tokens.authenticate(`Bearer ${agent.tokens.create('alice', 'admin').token}`);
    const answers = await Promise.all(
      [1, 2, 3].map((n) => agent.executor.execute(restart(`alice-${n}`, 'a'), alice)),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 429],
    );
    assert.equal(answers[2].body.code, 'DVM_TOO_MANY_RUNNING');
    const local = await agent.executor.execute(restart('local-1', 'a'), LOCAL_PRINCIPAL);
    assert.equal(local.status, 200);
  });
});

test("a pipeline task's resolutions take no principal's share: its run bounds its parallel tasks", async () => {
  const calls: Calls = { resolved: 0, ran: [] };
  await withHome(FREEZE, aliased(new Map([['a', 'web']]), calls, { delayMs: 200 }), async (agent) => {
    const task = () => ({
      workdir: tmpdir(),
      env: process.env as Record<string, string>,
      log: createMemoryLog({ maxBytes: 1024 }),
      signal: new AbortController().signal,
      resultsDir: tmpdir(),
    });
    const answers = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        agent.executor.execute(restart(`task-${n}`, 'a'), LOCAL_PRINCIPAL, { context: task() }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200],
    );
  });
});
