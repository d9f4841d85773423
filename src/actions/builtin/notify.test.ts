import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { DvmError } from '../../errors/dvm-error.ts';
import { createBuiltinRegistry } from '../registry.ts';
import { testContext } from '../testing.ts';
import { notifyAlertAction, notifySlackAction, notifyTeamAction } from './notify.ts';

interface Received {
  method?: string;
  path?: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

type Answer = { status: number; body?: string; delayMs?: number };

const HOOK_PATH = '/services/T000/B000/SECRET-TOKEN';

/**
 * A real webhook on 127.0.0.1 that accepts only `POST HOOK_PATH` with a JSON body. Anything else is recorded as
 * unexpected, and the test fails when it ends (checked in t.after, or by calling check()).
 */
async function webhook(
  t: TestContext | undefined,
  answer: (r: Received) => Answer = () => ({ status: 200 }),
) {
  const received: Received[] = [];
  const unexpected: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      const contentType = req.headers['content-type'];
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (req.method !== 'POST' || req.url !== HOOK_PATH || contentType !== 'application/json' || !body) {
        unexpected.push(`${req.method} ${req.url} (${contentType}) ${text}`);
        res.writeHead(400).end('unexpected');
        return;
      }
      const r = { method: req.method, path: req.url, headers: req.headers, body };
      received.push(r);
      const { status, body: reply = 'ok', delayMs = 0 } = answer(r);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end(reply);
      }, delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const check = () => assert.deepEqual(unexpected, [], 'the webhook received unexpected requests');
  t?.after(async () => {
    await close();
    check();
  });
  return { url: `http://127.0.0.1:${port}${HOOK_PATH}`, port, received, unexpected, check, close };
}

async function failure(promise: Promise<unknown>, code: string): Promise<DvmError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DvmError);
  assert.equal(error.code, code, error.message);
  assert.ok(error.fix);
  return error;
}

test('notify.slack posts the incoming-webhook JSON', async (t) => {
  const hook = await webhook(t);
  const context = testContext({ notify: { slack: { url: hook.url } } });
  const output = await notifySlackAction.handler(
    {
      channel: '#builds',
      message: 'Build 42 passed',
      severity: 'info',
      username: 'dvm',
      icon_emoji: ':rocket:',
    },
    context,
  );
  assert.deepEqual(output, { status: 200 });
  await notifySlackAction.handler({ channel: '#builds' }, context);
  await notifySlackAction.handler({ text: 'plain' }, context);
  assert.deepEqual(
    hook.received.map((r) => r.body),
    [
      { text: '[info] Build 42 passed', channel: '#builds', username: 'dvm', icon_emoji: ':rocket:' },
      { text: 'dvm notification', channel: '#builds' },
      { text: 'plain' },
    ],
  );
});

test('notify.alert and notify.team post the generic webhook JSON, extra fields in details', async (t) => {
  const alerts = await webhook(t);
  const team = await webhook(t);
  const context = testContext({ notify: { alert: { url: alerts.url }, team: { url: team.url } } });
  const registry = createBuiltinRegistry();
  const input = registry.validateInput(notifyAlertAction, {
    severity: 'critical',
    message: 'Job on-commit-ci failed',
    channel: '#ops',
    details: { run: 'r-1' },
    job: 'on-commit-ci',
    attempt: 2,
  });
  await notifyAlertAction.handler(input, context);
  await notifyAlertAction.handler({ severity: 'high' }, context);
  await notifyTeamAction.handler({ message: 'Workflow ci complete', channel: 'platform' }, context);
  assert.deepEqual(
    alerts.received.map((r) => r.body),
    [
      {
        event: 'dvm.alert',
        severity: 'critical',
        message: 'Job on-commit-ci failed',
        channel: '#ops',
        details: { run: 'r-1', job: 'on-commit-ci', attempt: 2 },
      },
      { event: 'dvm.alert', severity: 'high', message: 'dvm notification' },
    ],
  );
  assert.deepEqual(
    team.received.map((r) => r.body),
    [{ event: 'dvm.team', message: 'Workflow ci complete', channel: 'platform' }],
  );
});

test('a target without a URL is DVM_NOTIFY_NOT_CONFIGURED and sends nothing', async () => {
  for (const [action, target] of [
    [notifySlackAction, 'slack'],
    [notifyAlertAction, 'alert'],
    [notifyTeamAction, 'team'],
  ] as const) {
    const error = await failure(action.handler({ message: 'x' }, testContext()), 'DVM_NOTIFY_NOT_CONFIGURED');
    assert.equal(error.details.origin, 'user');
    assert.match(error.fix ?? '', /\$DVM_HOME\/config\.yaml under notify:/);
    assert.match(error.fix ?? '', new RegExp(`${target}:\\n\\s+url:`));
  }
  const bad = testContext({ notify: { slack: { url: 'file:///etc/passwd' } } });
  await failure(notifySlackAction.handler({ message: 'x' }, bad), 'DVM_NOTIFY_NOT_CONFIGURED');
});

test('a non-2xx answer is DVM_NOTIFY_FAILED with the status, and the secret URL is not shown', async (t) => {
  const hook = await webhook(t, (r) =>
    (r.body as { text: string }).text === 'gone' ? { status: 404, body: 'no_service' } : { status: 503 },
  );
  const context = testContext({ notify: { slack: { url: hook.url } } });
  const refused = await failure(notifySlackAction.handler({ message: 'gone' }, context), 'DVM_NOTIFY_FAILED');
  assert.equal(refused.message, `notify.slack: http://127.0.0.1:${hook.port} answered 404: no_service`);
  assert.deepEqual(refused.details, { origin: 'user', status: 404 });
  const down = await failure(notifySlackAction.handler({ message: 'down' }, context), 'DVM_NOTIFY_FAILED');
  assert.deepEqual(down.details, { origin: 'system', status: 503 });
  for (const e of [refused, down]) assert.ok(!`${e.message}${e.fix}`.includes('SECRET'));
});

test('an unreachable webhook is DVM_NOTIFY_FAILED', async () => {
  const hook = await webhook(undefined);
  await hook.close();
  const context = testContext({ notify: { team: { url: hook.url } } });
  const error = await failure(notifyTeamAction.handler({ message: 'x' }, context), 'DVM_NOTIFY_FAILED');
  assert.match(error.message, /could not reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});

test('an abort of the context signal stops a slow webhook call (DVM_CANCELLED)', async (t) => {
  const hook = await webhook(t, () => ({ status: 200, delayMs: 5000 }));
  const controller = new AbortController();
  const context = testContext({ signal: controller.signal, notify: { alert: { url: hook.url } } });
  const started = performance.now();
  setTimeout(() => controller.abort(), 100);
  await failure(notifyAlertAction.handler({ message: 'slow' }, context), 'DVM_CANCELLED');
  assert.ok(performance.now() - started < 2000);
});

test('the webhook harness fails a test on an unexpected request', async () => {
  const hook = await webhook(undefined);
  try {
    await fetch(hook.url, { method: 'GET' });
    await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    assert.throws(() => hook.check(), /unexpected requests/);
    assert.equal(hook.unexpected.length, 2);
    assert.equal(hook.received.length, 0);
  } finally {
    await hook.close();
  }
});

test('notify.slack refuses unknown fields; the webhook actions take them as details', () => {
  const registry = createBuiltinRegistry();
  assert.throws(
    () => registry.validateInput(notifySlackAction, { chanel: '#x' }),
    (e: unknown) =>
      e instanceof DvmError &&
      e.code === 'DVM_ACTION_INPUT_INVALID' &&
      e.causes[0]?.message === 'is not an input of notify.slack (did you mean "channel"?)',
  );
  assert.deepEqual(registry.validateInput(notifyTeamAction, { anything: [1] }), { anything: [1] });
});
