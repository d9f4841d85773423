import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, type ServeProcess, startServe } from '../helpers/agent-server.ts';
import { dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';
import { LAB_CI } from '../helpers/runs.ts';
import { waitFor } from '../helpers/wait.ts';

// A team webhook that records the audit alerts it is sent.
type Alert = {
  event: string;
  severity: string;
  message: string;
  details: { rule: string; audit: Record<string, unknown> };
};
const received: Alert[] = [];
const hook = createServer((req, res) => {
  let text = '';
  req.on('data', (chunk) => (text += chunk));
  req.on('end', () => {
    received.push(JSON.parse(text));
    res.end('ok');
  });
});

const SECRET = 'hunter2-alerts';
const home = tempHome();
let serve: ServeProcess;
const tokens: Record<string, string> = {};

before(async () => {
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  writeFileSync(
    join(home, 'config.yaml'),
    `notify:
  team: {url: "http://127.0.0.1:${(hook.address() as AddressInfo).port}/team"}
agent:
  alerts:
    - name: prod-changes
      notify: team
      env: prod
      risk: [write, destructive]
`,
  );
  tokens.operator = createToken(home, 'deployer', 'operator');
  tokens.viewer = createToken(home, 'watcher', 'viewer');
  serve = await startServe(home);
});

after(async () => {
  await serve?.stop();
  hook.close();
});

const execute = (token: string, body: Record<string, unknown>) =>
  api(serve.url, 'POST', '/v1/actions/execute', { token, body });

test('dvm serve posts the audit entries an agent.alerts rule matches to its webhook, redacted; others are not posted', async () => {
  const read = await execute(tokens.operator, {
    request_id: 'alerts-read',
    action: 'system.info',
    target: { env: 'prod' },
  });
  assert.equal(read.status, 200, read.text);
  const challenge = await execute(tokens.operator, {
    request_id: 'alerts-write',
    action: 'notify.alert',
    params: { message: 'rotate', password: SECRET },
    target: { env: 'prod' },
  });
  assert.equal(challenge.status, 428, challenge.text);
  const denied = await execute(tokens.viewer, {
    request_id: 'alerts-denied',
    action: 'notify.alert',
    params: { message: 'nope' },
    target: { env: 'prod' },
  });
  assert.equal(denied.status, 403, denied.text);

  await waitFor('two alerts', () => received.length >= 2);
  await sleep(300);
  assert.equal(received.length, 2, `only the prod writes alert: ${JSON.stringify(received)}`);
  const byDecision = Object.fromEntries(received.map((a) => [a.details.audit.decision, a]));
  const confirm = byDecision.confirmation_required;
  assert.equal(confirm.event, 'dvm.team');
  assert.equal(confirm.details.rule, 'prod-changes');
  assert.match(
    confirm.message,
    /^\[dvm audit\] prod-changes: confirmation_required notify\.alert on env=prod by deployer \(token\) — request alerts-write/,
  );
  assert.deepEqual(confirm.details.audit.params, { message: 'rotate', password: '[REDACTED]' });
  assert.ok(!JSON.stringify(received).includes(SECRET), 'the secret stays out of alerts');
  const refusal = byDecision.denied;
  assert.equal(refusal.severity, 'warning');
  assert.equal(refusal.details.audit.actor, 'watcher');

  // The alert names the entry: it is in the audit log under that seq.
  const seq = Number(/\(audit #(\d+)\)/.exec(confirm.message)?.[1]);
  const admin = createToken(home, 'root', 'admin');
  const entries = await api(serve.url, 'GET', '/v1/audit?requestId=alerts-write', { token: admin });
  assert.equal(entries.status, 200, entries.text);
  assert.ok(
    (entries.body.items as { seq: number; decision: string }[]).some(
      (e) => e.seq === seq && e.decision === 'confirmation_required',
    ),
    entries.text,
  );
  const metrics = await api(serve.url, 'GET', '/metrics', { token: tokens.viewer });
  assert.match(metrics.text, /dvm_audit_alerts_total\{rule="prod-changes",outcome="sent"\} 2/);
});

test('an in-process dvm action run alerts too, before it exits; a rule without its webhook stops the agent from opening, at its line', async () => {
  const before = received.length;
  const run = await dvmAsync(home, [
    'action',
    'run',
    'notify.alert',
    '--param',
    'message=local',
    '--env',
    'prod',
  ]);
  assert.notEqual(run.status, 0, 'no terminal and no --yes: the confirmation is required');
  assert.match(run.stderr, /DVM_CONFIRMATION_REQUIRED/);
  assert.equal(received.length, before + 1, 'the alert went out before dvm exited');
  assert.match(
    received[before].message,
    /prod-changes: confirmation_required notify\.alert on env=prod by local \(local\)/,
  );

  const broken = tempHome();
  writeFileSync(
    join(broken, 'config.yaml'),
    'agent:\n  alerts:\n    - {name: prod-changes, notify: slack, env: prod}\n',
  );
  const refused = dvm(broken, ['action', 'run', 'system.info']);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /DVM_SCHEMA_INVALID/);
  assert.match(refused.stderr, /config\.yaml:3:\d+ agent\.alerts\[0\]\.notify:/, 'file:line and the path');
  assert.match(refused.stderr, /notify:\n\s+slack:/);
});

test('dvm run reports the audit alerts of its action tasks that could not be posted, once the run is done', () => {
  const pipeline = tempHome();
  // A port nothing listens on: the webhook refuses every alert.
  writeFileSync(
    join(pipeline, 'config.yaml'),
    `notify:
  team: {url: "http://127.0.0.1:9/team"}
agent:
  alerts:
    - {name: pipeline-reads, notify: team, env: pipeline}
`,
  );
  dvmOk(pipeline, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: inspect, domain: ci}
spec: {action: system.info}
`,
  });
  const run = dvm(pipeline, ['run', 'task', 'inspect', '-e', 'lab', '-d', 'ci']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /task\/inspect Succeeded/);
  const warnings = run.stderr.split('\n').filter((line) => line.startsWith('warning: audit alert'));
  assert.equal(warnings.length, 2, run.stderr);
  for (const warning of warnings)
    assert.match(warning, /^warning: audit alert pipeline-reads \(audit #\d+\): DVM_NOTIFY_FAILED: /);
  assert.ok(
    run.stderr.indexOf('task/inspect Succeeded') < run.stderr.indexOf('warning: audit alert'),
    'after the run’s own output',
  );
});
