import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, createToken, startServe, useTwoPersonRule } from '../helpers/agent-server.ts';
import { dvm, tempHome } from '../helpers/dvm.ts';
import { recordingWebhook } from '../helpers/webhook.ts';

// `dvm policy test` of an operator's notify.alert with `extra` flags: its stdout, once DENY exited 1 (a CI gate's
// answer) and ALLOW 0.
function operatorAlertTest(home: string, ...extra: string[]): string {
  const run = dvm(home, [
    'policy',
    'test',
    '--principal',
    'role:operator',
    '--action',
    'notify.alert',
    ...extra,
  ]);
  assert.equal(run.status, run.stdout.startsWith('DENY') ? 1 : 0, run.stdout + run.stderr);
  return run.stdout;
}

// Operators may not page at critical severity: a forbid on a request's param.
const NO_CRITICAL_PAGES = `@id("no-critical-pages")
@reason("only admins page at critical severity")
forbid (principal, action, resource)
when {
  context.action == "notify.alert" && principal.role != "admin" &&
  context.params.hasTag("severity") && context.params.getTag("severity") == "critical"
};
`;

test("a policy on a request's params and target keys decides through the real server and dvm policy test alike", async () => {
  const home = tempHome();
  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'paging.cedar'),
    `${NO_CRITICAL_PAGES}
@id("no-eu-alerts")
@reason("alerts about the eu cluster go through its own agent")
forbid (principal, action, resource)
when { resource.hasTag("cluster") && resource.getTag("cluster") == "eu" };
`,
  );
  const hook = await recordingWebhook();
  const { received: delivered, url: hookUrl } = hook;
  const operator = createToken(home, 'ops', 'operator');
  const serve = await startServe(home, { DVM_NOTIFY_ALERT_URL: hookUrl });
  try {
    const alert = (request_id: string, severity: string, target: Record<string, string> = {}) =>
      api(serve.url, 'POST', '/v1/actions/execute', {
        token: operator,
        body: {
          request_id,
          action: 'notify.alert',
          params: { message: 'disk full', severity },
          target: { env: 'dev', ...target },
        },
      });
    const critical = await alert('a1', 'critical');
    assert.equal(critical.status, 403, critical.text);
    assert.deepEqual((critical.body.details as { policy_ids: string[] }).policy_ids, ['no-critical-pages']);
    const warning = await alert('a2', 'warning');
    assert.equal(warning.status, 200, warning.text);
    const eu = await alert('a3', 'warning', { cluster: 'eu' });
    assert.deepEqual((eu.body.details as { policy_ids: string[] }).policy_ids, ['no-eu-alerts']);
    assert.equal(delivered.length, 1, 'only the allowed alert was posted');
    assert.match(delivered[0], /warning/);

    const test = (...extra: string[]) => operatorAlertTest(home, ...extra);
    assert.match(test('--param', 'severity=critical'), /^DENY: .*\n {2}no-critical-pages: /);
    assert.match(test('--param', 'severity=warning'), /^ALLOW: /);
    assert.match(test('--target', 'cluster=eu'), /^DENY: .*\n {2}no-eu-alerts: /);
  } finally {
    await serve.stop();
    hook.close();
  }
});

test('policies decide on the real params: a redact.patterns match on a value does not hide it from a forbid (the audit still redacts it)', async () => {
  const home = tempHome();
  mkdirSync(join(home, 'policies'));
  writeFileSync(join(home, 'policies', 'paging.cedar'), NO_CRITICAL_PAGES);
  // A pattern of the home that happens to match the value the policy looks for.
  writeFileSync(join(home, 'config.yaml'), 'redact:\n  patterns: ["crit[a-z]+"]\n');
  const operator = createToken(home, 'ops', 'operator');
  const admin = createToken(home, 'boss', 'admin');
  const serve = await startServe(home);
  try {
    const critical = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: operator,
      body: {
        request_id: 'c1',
        action: 'notify.alert',
        params: { message: 'disk full', severity: 'critical' },
        target: { env: 'dev' },
      },
    });
    assert.equal(critical.status, 403, critical.text);
    assert.deepEqual((critical.body.details as { policy_ids: string[] }).policy_ids, ['no-critical-pages']);
    const audit = await api(serve.url, 'GET', '/v1/audit?request_id=c1', { token: admin });
    const [entry] = audit.body.items as { decision: string; params: Record<string, string> }[];
    assert.deepEqual([entry.decision, entry.params.severity], ['denied', '[REDACTED]']);
  } finally {
    await serve.stop();
  }
  // Under the two-person rule, an approver is held to the same real values: an operator's approval of an admin's
  // critical page (shown to the approver redacted) does not count when the admin runs it.
  useTwoPersonRule(home);
  const two = await startServe(home);
  try {
    const page = {
      request_id: 'c2',
      action: 'notify.alert',
      params: { message: 'disk full', severity: 'critical' },
      target: { env: 'prod' },
    };
    const challenged = await api(two.url, 'POST', '/v1/actions/execute', { token: admin, body: page });
    assert.equal(challenged.status, 428, challenged.text);
    const { confirmation_token } = (challenged.body.details as { challenge: { confirmation_token: string } })
      .challenge;
    const approved = await api(two.url, 'POST', '/v1/confirmations/approve', {
      token: operator,
      body: { confirmation_token },
    });
    assert.equal(approved.status, 200, 'the approver saw [REDACTED], which the forbid does not name');
    const run = await api(two.url, 'POST', '/v1/actions/execute', {
      token: admin,
      body: { ...page, request_id: 'c3', confirmation_token },
    });
    assert.equal(run.status, 403, run.text);
    assert.ok(
      (run.body.details as { policy_ids: string[] }).policy_ids.includes('no-critical-pages'),
      run.text,
    );
    assert.match(
      String((run.body.details as { reasons: string[] }).reasons),
      /approved by ops, whom the policy would not let run it/,
    );
  } finally {
    await two.stop();
  }
  assert.match(operatorAlertTest(home, '--param', 'severity=critical'), /^DENY: .*\n {2}no-critical-pages/);
});

test('dvm policy test decides on the params execute would: defaults filled in, a value of the wrong type refused', () => {
  const home = tempHome();
  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'ns.cedar'),
    `@id("no-default-ns")
forbid (principal, action, resource)
when { context.params.hasTag("namespace") && context.params.getTag("namespace") == "default" };
`,
  );
  const test = (...params: string[]) =>
    dvm(home, [
      'policy',
      'test',
      '--principal',
      'role:operator',
      '--action',
      'k8s.scale_deployment',
      ...params.flatMap((p) => ['--param', p]),
    ]);
  // namespace defaults to "default", as it would in the real request.
  const denied = test('deployment=web');
  assert.match(denied.stdout, /^DENY: .*\n {2}no-default-ns/);
  assert.equal(denied.status, 1);
  assert.match(test('deployment=web', 'namespace=shop').stdout, /^ALLOW: /);
  const wrong = test('replicas=abc');
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /DVM_ACTION_INPUT_INVALID/);
});

test('dvm policy test demands no param left out, not even one of alternatives; a param given is checked whole', () => {
  const home = tempHome();
  const test = (...params: string[]) =>
    dvm(home, [
      'policy',
      'test',
      '--principal',
      'local',
      '--action',
      'exec',
      ...params.flatMap((p) => ['--param', p]),
    ]);
  // exec needs one of command and shell (a oneOf): left out, both are, as a required param is.
  const bare = test();
  assert.equal(bare.status, 0, bare.stderr);
  assert.match(bare.stdout, /^ALLOW: local \(admin\) → exec \(write\) on env=dev\n/);
  assert.match(test('workdir=tmp').stdout, /^ALLOW: /);
  // Given, they are checked as execute would: both at once, a wrong type, a bad value, an unknown param.
  const refused: [string[], RegExp][] = [
    [['command=ls', 'shell=ls'], /gives command and shell: use exactly one of command, shell/],
    [['shell=ls', 'timeout=soon'], /timeout: "soon" is not/],
    // A given param that lacks a part of its own is wrong, not left out (this passed as "missing" before).
    [['command=ls', 'env=[{"value":"x"}]'], /env\[0\]\.name: is required/],
    [['env=7'], /env: must be/],
    [['comand=ls'], /comand: is not an input of exec/],
  ];
  for (const [params, message] of refused) {
    const run = test(...params);
    assert.equal(run.status, 1, `${params.join(' ')}: ${run.stdout}`);
    assert.match(run.stderr, /DVM_ACTION_INPUT_INVALID/);
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '', 'no decision for a request execute would refuse');
  }
  // An enum is still checked when its param is given (k8s.events' type).
  const events = (type: string) =>
    dvm(home, [
      'policy',
      'test',
      '--principal',
      'local',
      '--action',
      'k8s.events',
      '--param',
      `type=${type}`,
    ]);
  assert.equal(events('Warning').status, 0);
  const bad = events('Error');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /type: must be one of: "Normal", "Warning"/);
});
