import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEventStream, type ReceivedEvent } from '../../src/agent/client/sse-client.ts';
import { api, createToken, type ServeProcess, startServe } from '../helpers/agent-server.ts';
import { DVM_BIN, dvmAsync, dvmOk, REPO_ROOT, tempHome } from '../helpers/dvm.ts';
import { LAB_CI } from '../helpers/runs.ts';
import { waitFor } from '../helpers/wait.ts';

// An alerting webhook that never answers while the test runs: a notify.alert keeps running until cancelled.
const held: ServerResponse[] = [];
const hook = createServer((req, res) => {
  req.resume();
  held.push(res);
});

const home = tempHome();
let serve: ServeProcess;
let hookUrl: string;
const tokens: Record<string, string> = {};
const children: ChildProcess[] = [];

before(async () => {
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alert`;
  tokens.owner = createToken(home, 'owner', 'operator');
  tokens.other = createToken(home, 'other', 'operator');
  tokens.admin = createToken(home, 'root', 'admin');
  serve = await startServe(home, { DVM_NOTIFY_ALERT_URL: hookUrl });
});

after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await serve?.stop();
  for (const res of held) res.destroy();
  hook.close();
});

type Entry = {
  actor: string;
  decision: string;
  action?: string;
  version?: string;
  env?: string;
  target?: string;
  requestId?: string;
  executionId?: string;
  reasons?: string[];
  error?: { code: string; message: string };
};

const audit = async (query: string): Promise<Entry[]> => {
  const answer = await api(serve.url, 'GET', `/v1/audit?${query}`, { token: tokens.admin });
  assert.equal(answer.status, 200, answer.text);
  return answer.body.items as Entry[];
};

/**
 * Sends a notify.alert through the API (its answer comes once it ends) and returns that answer's promise with
 * the execution id, read from its `allowed` audit entry once its webhook call is in flight.
 */
async function startAlert(token: string, requestId: string) {
  const calls = held.length;
  const answer = api(serve.url, 'POST', '/v1/actions/execute', {
    token,
    body: { request_id: requestId, action: 'notify.alert', params: { message: 'm' }, target: { env: 'dev' } },
  });
  await waitFor('the webhook call', () => held.length > calls);
  const [allowed] = await audit(`requestId=${requestId}&decision=allowed`);
  assert.ok(allowed?.executionId, JSON.stringify(allowed));
  return { answer, id: allowed.executionId };
}

const cancel = (id: string, token?: string) =>
  api(serve.url, 'POST', `/v1/executions/${id}/cancel`, { token });

// The events of an execution's stream, until the server ends it.
async function streamOf(id: string, token: string): Promise<ReceivedEvent[]> {
  const response = await fetch(new URL(`/v1/executions/${id}/events`, serve.url), {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200);
  const events: ReceivedEvent[] = [];
  for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>)) events.push(event);
  return events;
}

test('the owner cancels its running execution: 200 with it failed/DVM_CANCELLED; the waiting request, the event stream and the audit see that end', async () => {
  const { answer, id } = await startAlert(tokens.owner, 'cancel-own');
  let streamed: ReceivedEvent[] | undefined;
  const stream = streamOf(id, tokens.owner).then((events) => (streamed = events));
  await sleep(200);
  assert.equal(streamed, undefined, 'the stream stays open while the execution runs');

  const hidden = await cancel(id, tokens.other);
  assert.equal(hidden.status, 404, hidden.text);
  assert.equal(hidden.body.code, 'DVM_EXECUTION_NOT_FOUND', "someone else's execution looks missing");
  const running = await api(serve.url, 'GET', `/v1/executions/${id}`, { token: tokens.owner });
  assert.equal(running.body.status, 'running', 'the refused cancel stopped nothing');
  const runningGauge = async () =>
    Number(
      /^dvm_executions_running (\d+)$/m.exec(
        (await api(serve.url, 'GET', '/metrics', { token: tokens.owner })).text,
      )?.[1],
    );
  assert.equal(await runningGauge(), 1, 'the metrics count it running');

  const cancelled = await cancel(id, tokens.owner);
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal(cancelled.body.id, id);
  assert.equal(cancelled.body.status, 'failed');
  assert.ok(cancelled.body.finished_at);
  const error = cancelled.body.error as { code: string; message: string; details: { outcome?: string } };
  assert.equal(error.code, 'DVM_CANCELLED');
  // notify.alert is a write: stopped mid-way, what it asked for may have happened.
  assert.equal(
    error.message,
    'cancelled by owner: notify.alert was stopped, but what it had already asked for may have happened',
  );
  assert.equal(error.details.outcome, 'unknown');

  assert.equal(await runningGauge(), 0, 'and no more once it ended');
  const waited = await answer;
  assert.equal(waited.status, 409, waited.text);
  assert.equal(waited.body.code, 'DVM_CANCELLED', 'the request that started it gets the end too');
  const events = await stream;
  assert.deepEqual(
    events.map((e) => e.event),
    ['started', 'failed'],
  );
  assert.equal(JSON.parse(events[1].data).error.code, 'DVM_CANCELLED');
  const stored = await api(serve.url, 'GET', `/v1/executions/${id}`, { token: tokens.owner });
  assert.deepEqual(stored.body, cancelled.body, 'the answer is the recorded end');

  const again = await cancel(id, tokens.owner);
  assert.equal(again.status, 409, again.text);
  assert.equal(again.body.code, 'DVM_EXECUTION_ENDED');
  assert.equal((again.body.details as { status: string }).status, 'failed');

  const entries = await audit('requestId=cancel-own');
  assert.deepEqual(
    entries.map((e) => [e.actor, e.decision, e.error?.code ?? null]),
    [
      ['owner', 'allowed', null],
      ['owner', 'allowed', null],
      ['owner', 'failed', 'DVM_CANCELLED'],
      ['owner', 'denied', 'DVM_EXECUTION_ENDED'],
    ],
    'the run, its cancel, its end, the refused second cancel; the hidden attempt is not there',
  );
  for (const entry of entries) {
    assert.deepEqual(
      [entry.action, entry.version, entry.env, entry.target, entry.executionId],
      ['notify.alert', '1.0.0', 'dev', 'env=dev', id],
    );
  }
  assert.deepEqual(entries[1].reasons, [`cancelled execution ${id}`]);
  assert.deepEqual(entries[3].reasons, [`refused to cancel execution ${id}: it already ended (failed)`]);
  assert.equal((await audit('actor=other')).length, 0, 'a cancel of an execution it cannot see is no entry');
  const verify = await dvmAsync(home, ['audit', 'verify']);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});

test("an admin may cancel anyone's running execution; an unknown id is 404 and no token 401", async () => {
  const { answer, id } = await startAlert(tokens.other, 'cancel-by-admin');
  const cancelled = await cancel(id, tokens.admin);
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.match(
    (cancelled.body.error as { message: string }).message,
    /^cancelled by root: notify\.alert was stopped/,
  );
  assert.equal((await answer).body.code, 'DVM_CANCELLED');
  const entries = await audit('requestId=cancel-by-admin');
  assert.deepEqual(
    entries.map((e) => [e.actor, e.decision]),
    [
      ['other', 'allowed'],
      ['root', 'allowed'],
      ['other', 'failed'],
    ],
  );

  const unknown = await cancel('x-no-such', tokens.admin);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 'DVM_EXECUTION_NOT_FOUND');
  const anonymous = await cancel(id);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.body.code, 'DVM_UNAUTHENTICATED');
});

test('an execution a `dvm action run` runs in its own process is DVM_EXECUTION_ELSEWHERE, from the server and in-process; once that process is gone it ended, interrupted', async () => {
  const calls = held.length;
  const terminal = spawn(
    process.execPath,
    [DVM_BIN, 'action', 'run', 'notify.alert', '--param', 'message=from a terminal'],
    {
      env: { ...process.env, DVM_HOME: home, NO_COLOR: '1', DVM_NOTIFY_ALERT_URL: hookUrl },
      cwd: REPO_ROOT,
      stdio: 'ignore',
    },
  );
  children.push(terminal);
  await waitFor('the webhook call of dvm action run', () => held.length > calls);
  const [allowed] = await audit('actor=local&action=notify.alert&decision=allowed');
  const id = String(allowed?.executionId);

  const refused = await cancel(id, tokens.admin);
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.body.code, 'DVM_EXECUTION_ELSEWHERE');
  const details = refused.body.details as { pid: number; fix: string };
  assert.equal(details.pid, terminal.pid);
  assert.match(details.fix, /Ctrl-C the `dvm action run`/);
  assert.match(details.fix, /--server/);

  const here = await dvmAsync(home, ['execution', 'cancel', id]);
  assert.equal(here.status, 1, here.stderr);
  assert.match(here.stderr, /DVM_EXECUTION_ELSEWHERE/);
  assert.match(here.stderr, new RegExp(`process ${terminal.pid}`));

  const entries = (await audit('decision=denied')).filter((e) => e.executionId === id);
  assert.deepEqual(
    entries.map((e) => [e.actor, e.reasons?.[0]]),
    [
      ['root', `refused to cancel execution ${id}: it runs in process ${terminal.pid}`],
      ['local', `refused to cancel execution ${id}: it runs in process ${terminal.pid}`],
    ],
  );

  terminal.kill('SIGKILL');
  await new Promise((resolve) => terminal.once('exit', resolve));
  const gone = await cancel(id, tokens.admin);
  assert.equal(gone.status, 409, gone.text);
  assert.equal(gone.body.code, 'DVM_EXECUTION_ENDED');
  assert.equal((gone.body.details as { status: string }).status, 'interrupted');
});

test('dvm execution cancel ID --server cancels through the API (a line, or the record with -o json); in-process an ended or unknown one says so', async () => {
  const env = { DVM_SERVER: serve.url, DVM_TOKEN: tokens.owner };
  const first = await startAlert(tokens.owner, 'cancel-cli');
  const cli = await dvmAsync(home, ['execution', 'cancel', first.id], { env });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, `execution ${first.id} cancelled (notify.alert)\n`);
  assert.equal((await first.answer).body.code, 'DVM_CANCELLED');

  const second = await startAlert(tokens.owner, 'cancel-cli-json');
  const json = await dvmAsync(home, ['execution', 'cancel', second.id, '--server', serve.url, '-o', 'json'], {
    env: { DVM_TOKEN: tokens.owner },
  });
  assert.equal(json.status, 0, json.stderr);
  const record = JSON.parse(json.stdout);
  assert.equal(record.id, second.id);
  assert.equal(record.status, 'failed');
  assert.equal(record.error.code, 'DVM_CANCELLED');
  await second.answer;

  const ended = await dvmAsync(home, ['execution', 'cancel', first.id], { env });
  assert.equal(ended.status, 1);
  assert.match(ended.stderr, /DVM_EXECUTION_ENDED/);
  const hidden = await dvmAsync(home, ['execution', 'cancel', first.id], {
    env: { ...env, DVM_TOKEN: tokens.other },
  });
  assert.equal(hidden.status, 1);
  assert.match(hidden.stderr, /DVM_EXECUTION_NOT_FOUND/);

  const local = await dvmAsync(home, ['execution', 'cancel', first.id]);
  assert.equal(local.status, 1);
  assert.match(local.stderr, /DVM_EXECUTION_ENDED/);
  assert.match(local.stderr, /already ended: failed/);
  const unknown = await dvmAsync(home, ['execution', 'cancel', 'x-no-such']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /DVM_EXECUTION_NOT_FOUND/);
});

test("a job's action task that dvm serve runs is listed and cancelled through serve's API: the task fails DVM_CANCELLED, its run ends Failed", async () => {
  const calls = held.length;
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: page, domain: ci}
spec: {action: notify.alert, params: {message: from a job}}
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: pager, domain: ci}
spec:
  runs: page
  concurrency: skip
  trigger: {schedule: "*/1 * * * * *"}
`,
  });
  await waitFor('the job task’s webhook call', () => held.length > calls, 20_000).catch((e) => {
    throw new Error(`${e.message}:\n${serve.output()}`);
  });
  const [allowed] = await audit('actor=local&action=notify.alert&env=pipeline&decision=allowed');
  const id = String(allowed?.executionId);

  const listed = await api(serve.url, 'GET', '/v1/executions?status=running&principal=local', {
    token: tokens.admin,
  });
  assert.equal(listed.status, 200, listed.text);
  assert.ok(
    (listed.body.items as { id: string }[]).some((e) => e.id === id),
    `the job's execution is listed: ${listed.text}`,
  );

  const cancelled = await cancel(id, tokens.admin);
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal(cancelled.body.status, 'failed');
  assert.equal((cancelled.body.error as { code: string }).code, 'DVM_CANCELLED');
  await waitFor('the run to end', () => /job lab\/ci\/pager run r\S+ Failed/.test(serve.output()));
  // No more runs: the job goes once the store is re-read.
  assert.equal((await dvmAsync(home, ['delete', 'job', 'pager', '-e', 'lab', '-d', 'ci'])).status, 0);
  await waitFor('the job to be disarmed', () => /job lab\/ci\/pager disarmed/.test(serve.output()));
});

// Last: it stops the file's serve.
test('SIGTERM: serve gives a request in flight its drain time, then answers it DVM_CANCELLED (recorded and audited), ends its event stream, and exits, not after the action’s timeout', async () => {
  const { answer, id } = await startAlert(tokens.owner, 'stop-in-flight');
  const stream = streamOf(id, tokens.owner);
  await sleep(100);
  const started = performance.now();
  assert.equal(await serve.stop('SIGTERM'), 0, serve.output());
  const took = performance.now() - started;
  // notify.alert waits 10 s for its webhook: serve waits DRAIN_MS (5 s), not that (nor a keep-alive after it).
  assert.ok(took < 9000, `serve took ${Math.round(took)} ms to stop`);
  const answered = await answer;
  assert.equal(answered.body.code, 'DVM_CANCELLED', answered.text);
  assert.match(String(answered.body.message), /the agent is stopping/);
  const events = await stream;
  assert.equal(events.at(-1)?.event, 'failed', JSON.stringify(events));
  const entries = (await dvmAsync(home, ['audit', 'export', '--request-id', 'stop-in-flight'])).stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Entry);
  assert.deepEqual(
    entries.map((e) => [e.decision, e.error?.code]),
    [
      ['allowed', undefined],
      ['failed', 'DVM_CANCELLED'],
    ],
  );
});
