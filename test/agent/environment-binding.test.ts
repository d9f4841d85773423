import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentSettings } from '../../src/agent/agent-settings.ts';
import { isDvmError } from '../../src/errors/dvm-error.ts';
import { adminInfoPolicyTest, api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

function bindTo(home: string, yaml: string): void {
  writeFileSync(join(home, 'config.yaml'), yaml);
}

test('an agent bound to prod refuses a request that declares another environment, on every path', async () => {
  const home = tempHome();
  bindTo(home, 'agent:\n  environments: [prod]\n');
  const admin = createToken(home, 'root', 'admin');
  const serve = await startServe(home);
  try {
    const execute = (requestId: string, action: string, env: string) =>
      api(serve.url, 'POST', '/v1/actions/execute', {
        token: admin,
        body: {
          request_id: requestId,
          action,
          params: action === 'notify.alert' ? { message: 'm' } : {},
          target: { env },
        },
      });
    // A write declared as dev would skip prod's confirmation: refused, whatever the policies say.
    const dev = await execute('r1', 'notify.alert', 'dev');
    assert.equal(dev.status, 403, dev.text);
    assert.equal(dev.body.code, 'DVM_FORBIDDEN');
    const details = dev.body.details as { policy_ids: string[]; reasons: string[]; fix: string };
    assert.deepEqual(details.policy_ids, ['dvm.environment-binding']);
    assert.match(details.reasons[0], /acts on prod .*not on "dev"/);
    assert.match(String(details.fix), /^Name the environment this agent acts on \(target\.env, --env prod\)/);
    // On prod the policies decide as usual: a read runs, a write needs its confirmation.
    assert.equal((await execute('r2', 'system.info', 'prod')).status, 200);
    assert.equal((await execute('r3', 'notify.alert', 'prod')).status, 428);
    // The refusal is audited as a denial with the binding as its policy.
    const audit = await api(serve.url, 'GET', '/v1/audit?decision=denied', { token: admin });
    const entries = audit.body.items as { requestId: string; policyIds: string[] }[];
    assert.deepEqual(
      entries.map((e) => [e.requestId, e.policyIds]),
      [['r1', ['dvm.environment-binding']]],
    );
  } finally {
    await serve.stop();
  }
  // The CLI in-process and dvm policy test go through the same engine.
  const local = dvm(home, ['action', 'run', 'system.info', '--env', 'test']);
  assert.notEqual(local.status, 0);
  assert.match(local.stderr, /DVM_FORBIDDEN.*acts on prod/);
  const unbound = dvm(home, adminInfoPolicyTest('env=dev'));
  assert.match(unbound.stdout, /^DENY[\s\S]*dvm\.environment-binding/);
  assert.equal(unbound.status, 1, 'DENY exits 1');
  assert.match(dvmOk(home, adminInfoPolicyTest('env=prod')).stdout, /^ALLOW/);
});

test('a bad agent.environments setting stops dvm serve and the CLI with the path and the fix', () => {
  const home = tempHome();
  bindTo(home, 'agent:\n  environments: prod\n');
  const serve = dvm(home, ['serve', '--listen', '127.0.0.1:0']);
  assert.notEqual(serve.status, 0);
  assert.match(serve.stderr, /DVM_SCHEMA_INVALID.*agent\.environments must be a non-empty list/);
  assert.match(serve.stderr, /config\.yaml/);
  bindTo(home, 'agent:\n  environment: prod\n');
  assert.match(
    dvm(home, ['policy', 'list']).stderr,
    /agent\.environment is not a setting \(known: environments, retention, limits, alerts, allowed_hosts\)/,
  );
});

test('agentSettings reads agent.environments and names what is wrong', () => {
  const boundEnvironments = (config: Record<string, unknown>, file: string) =>
    agentSettings(config, file).environments;
  assert.equal(boundEnvironments({}, 'c.yaml'), undefined);
  assert.equal(boundEnvironments({ agent: {} }, 'c.yaml'), undefined);
  assert.deepEqual(boundEnvironments({ agent: { environments: ['prod', 'stage', 'prod'] } }, 'c.yaml'), [
    'prod',
    'stage',
  ]);
  for (const [config, path] of [
    [{ agent: 'prod' }, 'agent'],
    [{ agent: { environments: [] } }, 'agent.environments'],
    [{ agent: { environments: ['prod', 'Prod!'] } }, 'agent.environments[1]'],
    [{ agent: { environments: [7] } }, 'agent.environments[0]'],
    [{ agent: { envs: ['prod'] } }, 'agent.envs'],
  ] as const) {
    assert.throws(
      () => boundEnvironments(config as Record<string, unknown>, 'c.yaml'),
      (error) => isDvmError(error) && error.code === 'DVM_SCHEMA_INVALID' && error.location.path === path,
      JSON.stringify(config),
    );
  }
});
