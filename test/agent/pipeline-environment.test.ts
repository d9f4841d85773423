import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, startServe, useTwoPersonRule } from '../helpers/agent-server.ts';
import { dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';
import { LAB_CI, runIdOf } from '../helpers/runs.ts';
import { recordingWebhook } from '../helpers/webhook.ts';

const PLATFORM = `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: page-prod, domain: ci}
spec:
  action: notify.alert
  environment: prod
  params: {message: deploy done}
  onFailure: {action: notify.alert, message: the page failed}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: release, domain: ci}
spec:
  tasks:
    - {name: page, taskRef: page-prod}
`;

type Entry = { actor: string; env: string; decision: string; action: string };

test('a pipeline task names its environment: prod is gated for it too, and dvm run --yes confirms it', async (t) => {
  const home = tempHome();
  const hook = await recordingWebhook();
  t.after(hook.close);
  const env = { DVM_NOTIFY_ALERT_URL: hook.url };
  dvmOk(home, ['apply', '-f', '-'], { input: PLATFORM });
  const unconfirmed = dvm(home, ['run', 'workflow', 'release'], { env });
  assert.equal(unconfirmed.status, 1, unconfirmed.stderr);
  const status = dvm(home, ['status', 'run', runIdOf(unconfirmed.stderr)]).stdout;
  assert.match(
    status,
    /page {2}Failed .*\(DVM_CONFIRMATION_REQUIRED; notify\.alert in prod needs confirmation, and this run was not started with --yes; onFailure notify\.alert failed: DVM_CONFIRMATION_REQUIRED: notify\.alert in prod needs confirmation/,
  );
  assert.match(
    status,
    /\n {4}fix: Run it again with dvm run … --yes/,
    'and what to do about it, under the task',
  );
  assert.equal(
    hook.received.length,
    0,
    'nothing was posted: not the task, nor its onFailure callback (prod too)',
  );
  // Async: the webhook answers from this process.
  const confirmed = await dvmAsync(home, ['run', 'workflow', 'release', '--yes'], { env });
  assert.equal(confirmed.status, 0, confirmed.stderr);
  assert.equal(hook.received.length, 1);
  const audit = JSON.parse(dvmOk(home, ['audit', '--action', 'notify.alert', '-o', 'json']).stdout)
    .items as Entry[];
  assert.deepEqual(
    audit.map((e) => [e.actor, e.env, e.decision]),
    [
      ['local', 'prod', 'confirmation_required'],
      ['local', 'prod', 'confirmation_required'],
      ['local', 'prod', 'confirmation_required'],
      ['local', 'prod', 'allowed'],
      ['local', 'prod', 'executed'],
    ],
  );
  // exec runs the task's own command, with no gate: an environment there is refused when it is applied.
  const exec = dvm(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: script, domain: ci}
spec: {command: [true], environment: prod}
`,
  });
  assert.equal(exec.status, 1);
  const own = dvm(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Action
metadata: {name: greet}
spec: {command: [echo, hi]}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: hello, domain: ci}
spec: {action: greet, environment: prod}
`,
  });
  assert.equal(own.status, 1, own.stderr);
  assert.match(
    own.stderr,
    /Task\/hello spec\.environment: .*the Action object greet runs the task's own command/,
  );
  assert.match(
    exec.stderr,
    /Task\/script spec\.environment: environment is for a task whose action goes through the agent/,
  );
});

test('under the two-person rule a pipeline task waits for another principal to approve, then runs', async (t) => {
  const home = tempHome();
  const hook = await recordingWebhook();
  t.after(hook.close);
  dvmOk(home, ['apply', '-f', '-'], { input: PLATFORM });
  useTwoPersonRule(home);
  const approver = createToken(home, 'approver', 'admin');
  const serve = await startServe(home);
  t.after(() => serve.stop());
  const run = dvmAsync(home, ['run', 'workflow', 'release'], { env: { DVM_NOTIFY_ALERT_URL: hook.url } });
  let waiting: { id: string; action: string; requested_by: string }[] = [];
  for (let i = 0; i < 100 && waiting.length === 0; i++) {
    await sleep(100);
    waiting = (await api(serve.url, 'GET', '/v1/confirmations', { token: approver })).body
      .items as typeof waiting;
  }
  assert.deepEqual(
    waiting.map((w) => [w.action, w.requested_by]),
    [['notify.alert', 'local']],
  );
  await sleep(300);
  assert.equal(hook.received.length, 0, 'it waits: nothing ran before the approval');
  const approved = await api(serve.url, 'POST', '/v1/confirmations/approve', {
    token: approver,
    body: { confirmation_id: waiting[0].id },
  });
  assert.equal(approved.status, 200, approved.text);
  const done = await run;
  assert.equal(done.status, 0, done.stderr);
  assert.equal(hook.received.length, 1);
  const log = dvmOk(home, ['logs', 'run', runIdOf(done.stderr), '--task', 'page']).stdout;
  assert.match(log, /waits for a second principal to approve confirmation [0-9a-f]{12}/);
  assert.match(log, /approved by approver: running notify\.alert/);
  const audit = (await api(serve.url, 'GET', '/v1/audit?action=notify.alert', { token: approver })).body
    .items as (Entry & { reasons?: string[] })[];
  const executed = audit.filter((e) => e.decision === 'allowed' && e.actor === 'local');
  assert.equal(executed.length, 1);
  assert.match(String(executed[0].reasons), /approved by approver/);
});

test('under the two-person rule a waiting pipeline task that is cancelled withdraws its challenge: approving it is refused, and nothing runs', async (t) => {
  const home = tempHome();
  const hook = await recordingWebhook();
  t.after(hook.close);
  dvmOk(home, ['apply', '-f', '-'], { input: PLATFORM });
  useTwoPersonRule(home);
  const approver = createToken(home, 'approver', 'admin');
  const serve = await startServe(home);
  t.after(() => serve.stop());
  const waitingNow = async () =>
    (await api(serve.url, 'GET', '/v1/confirmations', { token: approver })).body.items as { id: string }[];
  const run = dvmAsync(home, ['run', 'workflow', 'release'], { env: { DVM_NOTIFY_ALERT_URL: hook.url } });
  let waiting: { id: string }[] = [];
  for (let i = 0; i < 100 && waiting.length === 0; i++) {
    await sleep(100);
    waiting = await waitingNow();
  }
  assert.equal(waiting.length, 1, 'the task waits for its approval');
  const runs = JSON.parse(dvmOk(home, ['get', 'runs', '-o', 'json']).stdout).items as { id: string }[];
  dvmOk(home, ['cancel', 'run', runs[0].id]);
  const done = await run;
  assert.equal(done.status, 1, done.stderr);
  assert.match(dvmOk(home, ['status', 'run', runs[0].id]).stdout, /page {2}Cancelled/);
  assert.deepEqual(await waitingNow(), [], 'the cancelled task withdrew its challenge');
  const approved = await api(serve.url, 'POST', '/v1/confirmations/approve', {
    token: approver,
    body: { confirmation_id: waiting[0].id },
  });
  assert.equal(approved.status, 403, approved.text);
  assert.equal(approved.body.code, 'DVM_CONFIRMATION_INVALID');
  assert.equal((approved.body.details as { reason: string }).reason, 'used');
  await sleep(300);
  assert.equal(hook.received.length, 0, 'nothing ran: not the task, nor anything after the refused approval');
});

test('under the two-person rule a callback does not wait for an approval it has no time for: it fails at once, says why, and withdraws its challenge', async (t) => {
  const home = tempHome();
  const hook = await recordingWebhook();
  t.after(hook.close);
  dvmOk(home, ['apply', '-f', '-'], {
    input: PLATFORM.replace(
      'onFailure: {action: notify.alert, message: the page failed}',
      'onSuccess: {action: notify.alert, message: paged}',
    ),
  });
  useTwoPersonRule(home);
  const approver = createToken(home, 'approver', 'admin');
  const serve = await startServe(home);
  t.after(() => serve.stop());
  const waitingNow = async () =>
    (await api(serve.url, 'GET', '/v1/confirmations', { token: approver })).body.items as {
      id: string;
      action: string;
    }[];
  const run = dvmAsync(home, ['run', 'workflow', 'release'], { env: { DVM_NOTIFY_ALERT_URL: hook.url } });
  let waiting: Awaited<ReturnType<typeof waitingNow>> = [];
  for (let i = 0; i < 100 && waiting.length === 0; i++) {
    await sleep(100);
    waiting = await waitingNow();
  }
  assert.equal(waiting.length, 1, 'the task waits for its approval');
  const approved = await api(serve.url, 'POST', '/v1/confirmations/approve', {
    token: approver,
    body: { confirmation_id: waiting[0].id },
  });
  assert.equal(approved.status, 200, approved.text);
  const started = Date.now();
  const done = await run;
  assert.ok(Date.now() - started < 10_000, 'the callback did not wait out its 15 s');
  assert.equal(done.status, 0, done.stderr);
  assert.deepEqual(
    hook.received.map((r) => JSON.parse(r).message),
    ['deploy done'],
    'the task ran; the callback did not',
  );
  const status = dvmOk(home, ['status', 'run', runIdOf(done.stderr)]).stdout;
  assert.match(
    status,
    /page {2}Succeeded .*\(onSuccess notify\.alert failed: DVM_CONFIRMATION_REQUIRED: notify\.alert in prod needs a second principal's approval, and a callback cannot wait for one \(it has 15 s\)\)\n {4}fix: onSuccess notify\.alert: Make it a task of the pipeline/,
    'its code, and its fix under the task, as a task failure shows them',
  );
  const [page] = (
    JSON.parse(dvmOk(home, ['status', 'run', runIdOf(done.stderr), '-o', 'json']).stdout).items as {
      node: string;
      status: string;
      message?: string;
      fix?: string;
    }[]
  ).filter((r) => r.node.endsWith('page'));
  assert.equal(page.status, 'Succeeded');
  assert.match(String(page.message), /^onSuccess notify\.alert failed: DVM_CONFIRMATION_REQUIRED: /);
  assert.match(String(page.fix), /^onSuccess notify\.alert: Make it a task of the pipeline/);
  assert.deepEqual(await waitingNow(), [], 'the callback withdrew its challenge');
});
