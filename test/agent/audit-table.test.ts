import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

// Nothing listens here (a port of this file's range): a request to it could only fail after its retries.
const CLOSED_SERVER = 'http://127.0.0.1:18831';

test('dvm audit refuses -o yaml, wide and name (DVM_USAGE) like the other agent commands, locally, remotely and following', () => {
  const home = tempHome();
  dvmOk(home, ['action', 'run', 'system.info']);
  for (const form of ['yaml', 'wide', 'name']) {
    for (const [args, env] of [
      [['audit', '--tail', '1'], {}],
      [['audit', '--follow'], {}],
      // Refused before the remote agent is asked: no retries against a server that is not there.
      [['audit', '--server', CLOSED_SERVER], { DVM_TOKEN: 'dvm_unused' }],
      [['audit', 'export'], {}],
    ] as const) {
      const run = dvm(home, [...args, '-o', form], { env, timeoutMs: 20_000 });
      assert.equal(run.status, 2, `${args.join(' ')} -o ${form}: ${run.stdout}${run.stderr}`);
      assert.equal(run.stdout, '', 'nothing printed as if it were what was asked for');
      assert.match(
        run.stderr,
        args[1] === 'export'
          ? new RegExp(`DVM_USAGE: dvm audit export prints json, not -o ${form}`)
          : new RegExp(`^error: DVM_USAGE: dvm audit prints table or json, not -o ${form}$`, 'm'),
      );
    }
  }
  // The forms it prints still work.
  assert.match(dvmOk(home, ['audit', '-o', 'table']).stdout, /^SEQ +TIME +ACTOR +ACTION/);
  assert.equal(JSON.parse(dvmOk(home, ['audit', '-o', 'json']).stdout).items.length, 2);
  assert.match(dvmOk(home, ['audit', 'export', '-o', 'json']).stdout, /^\{"action":"system\.info"/);
});

// A restart of a container that need not exist (it is decided, never run), in prod.
const RESTART_IN_PROD = [
  'action',
  'run',
  'docker.restart_container',
  '--param',
  'container=dvm-test-none',
  '--env',
  'prod',
];

test('a dry run shows in the dvm audit table as (dry run), never like the real run it was not', () => {
  const home = tempHome();
  // A dry run is decided, not run: no container is needed.
  dvmOk(home, [...RESTART_IN_PROD, '--dry-run']);
  dvmOk(home, ['action', 'run', 'system.info']);
  const rows = dvmOk(home, ['audit'])
    .stdout.trim()
    .split('\n')
    .slice(1)
    .map((row) => row.split(/ {2,}/).slice(2, 5));
  assert.deepEqual(rows, [
    ['local', 'docker.restart_container (dry run)', 'allowed'],
    ['local', 'system.info', 'allowed'],
    ['local', 'system.info', 'executed'],
  ]);
  assert.equal(JSON.parse(dvmOk(home, ['audit', '-o', 'json']).stdout).items[0].dryRun, true);
});

test('a forbid that denies outright is the one reason of the 403 and of its audit entry (no confirmation rule)', () => {
  const home = tempHome();
  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'freeze.cedar'),
    `@id("no-prod-restart")
@reason("restarts in prod are frozen")
forbid (principal, action, resource)
when { context.action == "docker.restart_container" && resource.env == "prod" };
`,
  );
  for (const confirm of [[], ['--yes']]) {
    const run = dvm(home, [...RESTART_IN_PROD, ...confirm]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      /^error: DVM_FORBIDDEN: policy denies this request: restarts in prod are frozen$/m,
      run.stderr,
    );
    assert.doesNotMatch(run.stderr, /need confirmation/);
    // The fix is the policy's (no role would help), not "Ask an admin for a role".
    assert.match(
      run.stderr,
      /^ {2}fix: Policy "no-prod-restart" \(freeze\.cedar:1\) forbids this whatever the role: .*only an admin who changes or removes that policy can allow it/m,
    );
    assert.doesNotMatch(run.stderr, /Ask an admin for a role/);
  }
  const denied = JSON.parse(dvmOk(home, ['audit', '--decision', 'denied', '-o', 'json']).stdout).items;
  assert.equal(denied.length, 2);
  for (const entry of denied) {
    assert.deepEqual(
      [entry.policyIds, entry.reasons],
      [['no-prod-restart'], ['restarts in prod are frozen']],
    );
  }
});
