import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

test("a policy on a request's params and target keys decides through the real server and dvm policy test alike", async () => {
  const home = tempHome();
  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'paging.cedar'),
    `@id("no-critical-pages")
@reason("only admins page at critical severity")
forbid (principal, action, resource)
when {
  context.action == "notify.alert" && principal.role != "admin" &&
  context.params.hasTag("severity") && context.params.getTag("severity") == "critical"
};

@id("no-eu-alerts")
@reason("alerts about the eu cluster go through its own agent")
forbid (principal, action, resource)
when { resource.hasTag("cluster") && resource.getTag("cluster") == "eu" };
`,
  );
  const delivered: string[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      delivered.push(body);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
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

    const test = (...extra: string[]) =>
      dvmOk(home, ['policy', 'test', '--principal', 'role:operator', '--action', 'notify.alert', ...extra])
        .stdout;
    assert.match(test('--param', 'severity=critical'), /^DENY: .*\n {2}no-critical-pages: /);
    assert.match(test('--param', 'severity=warning'), /^ALLOW: /);
    assert.match(test('--target', 'cluster=eu'), /^DENY: .*\n {2}no-eu-alerts: /);
  } finally {
    await serve.stop();
    hook.close();
  }
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
  assert.match(test('deployment=web').stdout, /^DENY: .*\n {2}no-default-ns/);
  assert.match(test('deployment=web', 'namespace=shop').stdout, /^ALLOW: /);
  const wrong = test('replicas=abc');
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /DVM_ACTION_INPUT_INVALID/);
});
