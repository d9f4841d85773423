import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  ALERTS_IN_FLIGHT,
  ALERTS_QUEUED,
  type AlertOutcome,
  AuditAlerts,
  alertRulesSetting,
} from './audit-alerts.ts';
import type { AuditEntry } from './audit-log.ts';

const FILE = '/home/config.yaml';

test('alertRulesSetting reads rules (a name or a list per field) and refuses anything else at its path', () => {
  assert.deepEqual(
    alertRulesSetting(
      [
        {
          name: 'prod-changes',
          notify: 'slack',
          env: 'prod',
          decision: ['executed', 'denied'],
          risk: 'write',
        },
        { name: 'k8s', notify: 'alert', action: ['k8s.*'] },
      ],
      FILE,
    ),
    [
      {
        name: 'prod-changes',
        notify: 'slack',
        env: ['prod'],
        decision: ['executed', 'denied'],
        risk: ['write'],
      },
      { name: 'k8s', notify: 'alert', action: ['k8s.*'] },
    ],
  );
  const bad: [unknown, string, RegExp][] = [
    [{ name: 'x' }, 'agent.alerts', /must be a list of rules/],
    [['x'], 'agent.alerts[0]', /must be a mapping/],
    [[{ name: 'a', notify: 'slack', when: {} }], 'agent.alerts[0].when', /is not a field/],
    [[{ notify: 'slack' }], 'agent.alerts[0].name', /lowercase name/],
    [
      [
        { name: 'a', notify: 'slack' },
        { name: 'a', notify: 'team' },
      ],
      'agent.alerts[1].name',
      /names two rules/,
    ],
    [[{ name: 'a', notify: 'email' }], 'agent.alerts[0].notify', /one of slack, alert, team/],
    [
      [{ name: 'a', notify: 'slack', decision: ['executed', 'ran'] }],
      'agent.alerts[0].decision',
      /"ran" is not one of/,
    ],
    [[{ name: 'a', notify: 'slack', risk: 'high' }], 'agent.alerts[0].risk', /"high" is not one of/],
    [[{ name: 'a', notify: 'slack', env: [] }], 'agent.alerts[0].env', /non-empty list/],
    [[{ name: 'a', notify: 'slack', action: [3] }], 'agent.alerts[0].action', /non-empty list/],
  ];
  for (const [value, path, message] of bad)
    assert.throws(
      () => alertRulesSetting(value, FILE),
      (error: { code: string; location: { path?: string; file?: string }; message: string }) =>
        error.code === 'DVM_SCHEMA_INVALID' &&
        error.location.path === path &&
        error.location.file === FILE &&
        message.test(error.message),
      JSON.stringify(value),
    );
});

test('a rule whose notify target has no webhook is refused when the alerts are set up (it would never alert)', () => {
  assert.throws(
    () =>
      new AuditAlerts([{ name: 'a', notify: 'team' }], { notify: {}, riskOf: () => undefined, file: FILE }),
    (error: { code: string; location: { path?: string; file?: string }; message: string }) =>
      error.code === 'DVM_SCHEMA_INVALID' &&
      error.location.path === 'agent.alerts[0].notify' &&
      error.location.file === FILE &&
      /no webhook URL configured/.test(error.message),
  );
});

let seq = 0;
function entry(fields: Partial<AuditEntry>): AuditEntry {
  seq++;
  return {
    at: '2026-11-30T12:00:00.000Z',
    actor: 'ci',
    via: 'token',
    decision: 'executed',
    seq,
    hash: 'h',
    prevHash: 'p',
    ...fields,
  };
}

// A webhook that records what it is sent; `hold` keeps answers back until released.
async function webhook(options: { status?: number; hold?: boolean } = {}) {
  const received: Record<string, unknown>[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      received.push(JSON.parse(text));
      if (options.hold) held.push(res);
      else res.writeHead(options.status ?? 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    held,
    close: () => {
      for (const res of held) res.destroy();
      server.close();
    },
  };
}

test('matching entries are posted once committed-shaped (env, decision, risk, action prefix); others are not; outcomes are told', async () => {
  const hook = await webhook();
  const outcomes: AlertOutcome[] = [];
  const alerts = new AuditAlerts(
    [
      { name: 'prod-writes', notify: 'alert', env: ['prod'], risk: ['write', 'destructive'] },
      { name: 'k8s-denied', notify: 'slack', action: ['k8s.*'], decision: ['denied'] },
    ],
    {
      notify: { alert: { url: hook.url }, slack: { url: hook.url } },
      riskOf: (action) =>
        action.startsWith('docker.restart') || action.startsWith('k8s.scale') ? 'write' : 'read',
    },
  );
  alerts.onOutcome((o) => outcomes.push(o));
  const restart = entry({
    action: 'docker.restart_container',
    version: '1.0.0',
    env: 'prod',
    target: 'env=prod',
    requestId: 'r1',
    executionId: 'x1',
    params: { container: 'web' },
    result: { summary: { restarted: true } },
  });
  alerts.handle(restart);
  alerts.handle(entry({ action: 'system.info', env: 'prod' })); // a read
  alerts.handle(entry({ action: 'docker.restart_container', env: 'dev' })); // not prod
  alerts.handle(
    entry({
      action: 'k8s.pod_logs',
      env: 'dev',
      decision: 'denied',
      requestId: '<!channel> & co',
      reasons: ['no policy permits it'],
    }),
  );
  alerts.handle(entry({ action: 'k8s.pod_logs', env: 'dev', decision: 'allowed' })); // not denied
  await alerts.close();
  hook.close();

  assert.equal(hook.received.length, 2, JSON.stringify(hook.received));
  const alert = hook.received.find((b) => b.event === 'dvm.alert') as {
    message: string;
    severity: string;
    details: { rule: string; audit: Record<string, unknown> };
  };
  assert.equal(
    alert.message,
    `[dvm audit] prod-writes: executed docker.restart_container on env=prod by ci (token) — request r1, execution x1 (audit #${restart.seq})`,
  );
  assert.equal(alert.severity, 'info');
  assert.equal(alert.details.rule, 'prod-writes');
  assert.deepEqual(alert.details.audit.params, { container: 'web' });
  assert.equal(alert.details.audit.result, undefined, 'results stay out of alerts');
  const slack = hook.received.find((b) => typeof b.text === 'string') as { text: string };
  assert.match(
    slack.text,
    /^\[warning\] \[dvm audit\] k8s-denied: denied k8s\.pod_logs by ci \(token\) — request &lt;!channel&gt; &amp; co, no policy permits it/,
    'what a request sent cannot mention a channel',
  );
  assert.deepEqual(outcomes.map((o) => [o.rule, o.outcome]).sort(), [
    ['k8s-denied', 'sent'],
    ['prod-writes', 'sent'],
  ]);
});

test('a webhook that refuses is a failed outcome with DVM_NOTIFY_FAILED; a burst past the queue is dropped, counted, and named in the next alert', async () => {
  const refusing = await webhook({ status: 500 });
  const failed: AlertOutcome[] = [];
  const refused = new AuditAlerts([{ name: 'all', notify: 'team' }], {
    notify: { team: { url: refusing.url } },
    riskOf: () => undefined,
  });
  refused.onOutcome((o) => failed.push(o));
  refused.handle(entry({ action: 'system.info' }));
  await refused.close();
  refusing.close();
  assert.equal(failed.length, 1);
  assert.equal(failed[0].outcome, 'failed');
  assert.equal(failed[0].outcome === 'failed' && failed[0].error.code, 'DVM_NOTIFY_FAILED');

  const slow = await webhook({ hold: true });
  const outcomes: AlertOutcome[] = [];
  const alerts = new AuditAlerts([{ name: 'all', notify: 'alert' }], {
    notify: { alert: { url: slow.url } },
    riskOf: () => undefined,
  });
  alerts.onOutcome((o) => outcomes.push(o));
  const burst = ALERTS_IN_FLIGHT + ALERTS_QUEUED + 5;
  for (let i = 0; i < burst; i++) alerts.handle(entry({ action: 'system.info' }));
  assert.equal(
    outcomes.filter((o) => o.outcome === 'dropped').length,
    5,
    'past the queue, alerts are dropped',
  );
  // Let the first posts through: the next one sent says how many were dropped.
  while (slow.held.length < ALERTS_IN_FLIGHT) await new Promise((resolve) => setTimeout(resolve, 10));
  for (const res of slow.held.splice(0)) res.writeHead(200).end('ok');
  while (slow.received.length < ALERTS_IN_FLIGHT + 1) await new Promise((resolve) => setTimeout(resolve, 10));
  const next = slow.received[ALERTS_IN_FLIGHT] as { message: string; details: { dropped?: number } };
  assert.match(next.message, /\(\+5 alert\(s\) dropped while the webhook was busy\)$/);
  assert.equal(next.details.dropped, 5);
  // Closing gives the posts still waiting for an answer its grace, then abandons them (reported failed).
  const closing = performance.now();
  const waiting = outcomes.length;
  await alerts.close(200);
  assert.ok(performance.now() - closing < 2000, 'close waits out its grace, not the webhook');
  const abandoned = outcomes.slice(waiting).filter((o) => o.outcome === 'failed');
  assert.ok(abandoned.length > 0, JSON.stringify(outcomes.slice(waiting)));
  for (const o of abandoned) assert.equal(o.outcome === 'failed' && o.error.code, 'DVM_CANCELLED');
  slow.close();
});
