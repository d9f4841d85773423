import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { errorFromBody } from '../../src/agent/client/agent-client.ts';
import {
  adminInfoPolicyTest,
  api,
  createToken,
  startServe,
  useTwoPersonRule,
} from '../helpers/agent-server.ts';
import { dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';
import { dvmPty, HAS_SCRIPT } from '../helpers/pty.ts';

test('dvm token create prints the token once; list shows owner and state; revoke refuses it', () => {
  const home = tempHome();
  const created = dvmOk(home, ['token', 'create', '--name', 'ci', '--role', 'operator', '--ttl', '24h']);
  assert.match(created.stdout.trim(), /^dvm_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
  assert.match(created.stderr, /shown only once/);
  assert.match(created.stderr, /role operator, owner ci,/, 'without --owner a token is its own owner');
  const owned = dvmOk(home, [
    'token',
    'create',
    '--name',
    'ci-2',
    '--role',
    'admin',
    '--owner',
    'ops',
    '--ttl',
    '1h',
  ]);
  assert.match(owned.stderr, /token ci-2 created \(role admin, owner ops,/);
  const list = dvmOk(home, ['token', 'list']).stdout;
  assert.match(list, /^NAME\s+ID\s+OWNER\s+ROLE\s+STATE/);
  assert.match(list, /^ci\s+[0-9a-f]{8}\s+ci\s+operator\s+active/m);
  assert.match(list, /^ci-2\s+[0-9a-f]{8}\s+ops\s+admin\s+active/m);
  assert.deepEqual(
    (
      JSON.parse(dvmOk(home, ['token', 'list', '-o', 'json']).stdout).items as {
        name: string;
        owner: string;
      }[]
    )
      .map((t) => [t.name, t.owner])
      .sort(),
    [
      ['ci', 'ci'],
      ['ci-2', 'ops'],
    ],
  );
  assert.ok(!list.includes(created.stdout.trim().slice(13)), 'the list never shows the secret');
  for (const [owner, message] of [
    ['anonymous', /DVM_TOKEN_INVALID owner: owner "anonymous" is reserved/],
    ['Ops Team', /DVM_TOKEN_INVALID owner: owner "Ops Team" is not valid/],
  ] as const) {
    const refused = dvm(home, ['token', 'create', '--name', 'x', '--role', 'viewer', '--owner', owner]);
    assert.equal(refused.status, 1, owner);
    assert.match(refused.stderr, message);
  }
  assert.match(dvmOk(home, ['token', '--help']).stdout, /--owner PERSON/);
  assert.match(dvmOk(home, ['token', 'revoke', 'ci']).stdout, /^token ci \(\w+\) revoked\n$/);
  assert.match(dvmOk(home, ['token', 'list']).stdout, /^ci\s+\S+\s+ci\s+operator\s+revoked/m);
  assert.match(
    dvmOk(home, ['token', 'revoke', 'ci']).stdout,
    /^token ci \(\w+\) was already revoked at \d{4}-\S+: nothing changed\n$/,
    'revoking again says so',
  );
  const bad = dvm(home, ['token', 'create', '--name', 'x', '--role', 'root']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /DVM_TOKEN_INVALID/);
});

test('a new home is readable by its owner only: the directory 0700, its databases 0600', () => {
  const home = join(tempHome(), 'new-home');
  dvmOk(home, ['token', 'create', '--name', 'ci', '--role', 'operator', '--ttl', '1d']);
  dvmOk(home, ['action', 'run', 'system.info']);
  dvmOk(home, ['get', 'ecosystems']);
  const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);
  assert.equal(modeOf(home), '700');
  assert.equal(modeOf(join(home, 'agent.db')), '600');
  assert.equal(modeOf(join(home, 'dvm.db')), '600');
  // A WAL is there while a connection writes; SQLite gives it its database's mode.
  const open = new DatabaseSync(join(home, 'agent.db'));
  try {
    open.exec('PRAGMA wal_autocheckpoint = 0; CREATE TABLE wal_probe (x); DROP TABLE wal_probe;');
    assert.equal(modeOf(join(home, 'agent.db-wal')), '600');
  } finally {
    open.close();
  }
});

test('a home made by an older dvm (0755, databases 0644) is made private when dvm opens it', () => {
  const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);
  const oldHome = (extra?: string) => {
    const home = join(tempHome(), 'old-home');
    dvmOk(home, ['token', 'create', '--name', 'ci', '--role', 'operator', '--ttl', '1d']);
    dvmOk(home, ['get', 'ecosystems']);
    if (extra) writeFileSync(join(home, extra), 'kept by its owner');
    chmodSync(home, 0o755);
    for (const db of ['agent.db', 'dvm.db']) chmodSync(join(home, db), 0o644);
    return home;
  };
  const home = oldHome();
  dvmOk(home, ['token', 'list']);
  dvmOk(home, ['get', 'ecosystems']);
  assert.deepEqual(
    [modeOf(home), modeOf(join(home, 'agent.db')), modeOf(join(home, 'dvm.db'))],
    ['700', '600', '600'],
  );
  // A directory holding something else is not dvm's alone: its databases are made private, the directory is not.
  const shared = oldHome('notes.txt');
  dvmOk(shared, ['token', 'list']);
  assert.deepEqual(
    [modeOf(shared), modeOf(join(shared, 'agent.db')), modeOf(join(shared, 'dvm.db'))],
    ['755', '600', '644'],
  );
  // A group-writable home is shared on purpose: left as it is.
  const group = oldHome();
  chmodSync(group, 0o775);
  dvmOk(group, ['get', 'ecosystems']);
  assert.deepEqual([modeOf(group), modeOf(join(group, 'dvm.db'))], ['775', '600']);
});

test('dvm token list filters by --owner and --role; a flag of another subcommand is refused, never ignored', () => {
  const home = tempHome();
  for (const [name, role, owner] of [
    ['alice-ci', 'admin', 'alice'],
    ['alice-laptop', 'operator', 'alice'],
    ['bob', 'operator', 'bob'],
  ])
    dvmOk(home, ['token', 'create', '--name', name, '--role', role, '--owner', owner, '--ttl', '1h']);
  const names = (args: string[]) =>
    JSON.parse(dvmOk(home, ['token', 'list', ...args, '-o', 'json']).stdout)
      .items.map((t: { name: string }) => t.name)
      .sort();
  assert.deepEqual(names(['--owner', 'alice']), ['alice-ci', 'alice-laptop']);
  assert.deepEqual(names(['--role', 'operator']), ['alice-laptop', 'bob']);
  assert.deepEqual(names(['--owner', 'alice', '--role', 'operator']), ['alice-laptop']);
  for (const [args, flag] of [
    [['token', 'revoke', 'bob', '--owner', 'alice'], '--owner'],
    [['token', 'list', '--ttl', '1h'], '--ttl'],
    [['token', 'create', '--name', 'x', '--role', 'viewer', '--id', 'abcd1234'], '--id'],
  ] as const) {
    const refused = dvm(home, [...args]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`DVM_USAGE: dvm token ${args[1]} does not take ${flag}`));
  }
  assert.deepEqual(names([]), ['alice-ci', 'alice-laptop', 'bob'], 'nothing was revoked or created');
  assert.match(dvmOk(home, ['token', 'list']).stdout, /^bob\s+\S+\s+bob\s+operator\s+active/m);
});

test('dvm token: revoke refuses an ambiguous argument, the ttl has a maximum, names are never reused', () => {
  const home = tempHome();
  dvmOk(home, ['token', 'create', '--name', 'alpha', '--role', 'viewer']);
  const alpha = JSON.parse(dvmOk(home, ['token', 'list', '-o', 'json']).stdout).items[0];
  const idLike = dvm(home, ['token', 'create', '--name', alpha.id, '--role', 'admin']);
  assert.equal(idLike.status, 1);
  assert.match(idLike.stderr, /DVM_TOKEN_INVALID.*looks like a token id/);
  // One that an older dvm let through: its name is alpha's id.
  const db = new DatabaseSync(join(home, 'agent.db'));
  db.prepare(
    "INSERT INTO tokens (id, name, role, hash, created_at) VALUES ('feedbeef', ?, 'admin', '00', ?)",
  ).run(alpha.id, new Date().toISOString());
  db.close();
  const ambiguous = dvm(home, ['token', 'revoke', alpha.id]);
  assert.equal(ambiguous.status, 1);
  assert.match(ambiguous.stderr, /DVM_AMBIGUOUS/);
  assert.match(ambiguous.stderr, /alpha/);
  assert.match(ambiguous.stderr, /feedbeef/);
  assert.doesNotMatch(dvmOk(home, ['token', 'list']).stdout, /revoked/, 'nothing was revoked');
  assert.match(
    dvmOk(home, ['token', 'revoke', '--id', alpha.id]).stdout,
    new RegExp(`^token alpha \\(${alpha.id}\\) revoked`),
  );
  assert.match(dvmOk(home, ['token', 'list']).stdout, /^alpha\s+\S+\s+alpha\s+viewer\s+revoked/m);
  assert.match(
    dvmOk(home, ['token', 'list']).stdout,
    new RegExp(`^${alpha.id}\\s+feedbeef\\s+${alpha.id}\\s+admin\\s+active`, 'm'),
  );

  const long = dvm(home, ['token', 'create', '--name', 'long', '--role', 'viewer', '--ttl', '999999999d']);
  assert.equal(long.status, 1);
  assert.match(long.stderr, /DVM_TOKEN_INVALID.*maximum, 3650d/);
  assert.doesNotMatch(long.stderr, /DVM_INTERNAL/);

  const reuse = dvm(home, ['token', 'create', '--name', 'alpha', '--role', 'viewer']);
  assert.equal(reuse.status, 1);
  assert.match(reuse.stderr, /DVM_ALREADY_EXISTS/);
  assert.match(reuse.stderr, /never reused/);
  assert.doesNotMatch(reuse.stderr, /Revoke it first/);
});

test('DVM_TOKEN without a server is a usage error: dvm never runs in-process as the local admin in its place', () => {
  const home = tempHome();
  for (const args of [
    ['action', 'run', 'system.info'],
    ['action', 'list'],
    ['execution', 'list'],
  ]) {
    const run = dvm(home, args, { env: { DVM_TOKEN: 'dvm_00000000_x' } });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(
      run.stderr,
      /DVM_USAGE: DVM_TOKEN is set but no server is .*not run in-process as the local admin/,
    );
    assert.match(run.stderr, /fix: Set DVM_SERVER .*unset DVM_TOKEN/);
  }
  assert.ok(!existsSync(join(home, 'agent.db')), 'nothing ran, in-process or otherwise');
  const info = dvmOk(home, ['action', 'run', 'system.info']);
  assert.doesNotMatch(info.stderr, /warning/);
  // Its raw output is its summary: printed once, on stdout, with the execution's line on stderr.
  assert.equal(JSON.parse(info.stdout).platform, `${process.platform}-${process.arch}`);
  assert.match(info.stderr, /^execution x\S+: system\.info@1\.0\.0 succeeded in \d+ ms\n$/);
});

test('DVM_SERVER at a server that is not a dvm agent, or with a password in it, is a coded error that shows neither the page nor the password', async () => {
  const home = tempHome();
  const web = createServer((_req, res) =>
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!DOCTYPE HTML><title>Directory listing</title>'),
  );
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    for (const args of [['action', 'list'], ['execution', 'list'], ['audit']]) {
      const run = await dvmAsync(home, args, { env: { DVM_SERVER: url, DVM_TOKEN: 'dvm_00000000_x' } });
      assert.equal(run.status, 1, run.stderr);
      assert.match(
        run.stderr,
        /DVM_CONNECTOR_UNAVAILABLE: http:\/\/127\.0\.0\.1:\d+ answered HTTP 200, but not as a dvm agent/,
      );
      assert.match(run.stderr, /fix: Point --server \/ DVM_SERVER at the address `dvm serve` prints/);
      assert.doesNotMatch(run.stderr, /DOCTYPE|Directory|TypeError|is not a function/);
    }
  } finally {
    web.close();
  }
  const secret = dvm(home, ['action', 'list'], {
    env: { DVM_SERVER: 'http://ops:hunter2pw@127.0.0.1:9', DVM_TOKEN: 'dvm_00000000_x' },
  });
  assert.equal(secret.status, 2);
  assert.match(
    secret.stderr,
    /DVM_USAGE: --server \(or DVM_SERVER\) for 127\.0\.0\.1:9 has a user or password in it/,
  );
  assert.doesNotMatch(secret.stderr, /hunter2pw/);
});

test('dvm action run --dry-run says what the real run would meet: a confirmation in prod, nothing in dev', () => {
  const home = tempHome();
  const dry = (env: string) =>
    dvmOk(home, ['action', 'run', 'notify.alert', '--param', 'message=x', '--env', env, '--dry-run']).stdout;
  assert.match(dry('prod'), /would be allowed by rbac-write; the real run needs a confirmation/);
  assert.doesNotMatch(dry('dev'), /needs a confirmation/);
});

test('an action that ran and failed says where its output is: dvm execution logs ID shows what the command printed', () => {
  const home = tempHome();
  const failed = dvm(home, ['action', 'run', 'exec', '--param', 'shell=echo the-real-reason >&2; exit 3']);
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(failed.stderr, /DVM_TASK_FAILED/);
  const id = /Its output and progress: dvm execution logs (x\w+)\./.exec(failed.stderr)?.[1];
  assert.ok(id, failed.stderr);
  const logs = dvm(home, ['execution', 'logs', id]);
  assert.match(logs.stdout + logs.stderr, /the-real-reason/);
});

test('dvm policy test shows the decision and the policies behind it, with user policies', () => {
  const home = tempHome();
  const confirm = dvmOk(home, [
    'policy',
    'test',
    '--principal',
    'role:operator',
    '--action',
    'notify.alert',
    '--target',
    'env=prod',
  ]);
  assert.match(
    confirm.stdout,
    /^ALLOW after confirmation: role:operator \(operator\) → notify\.alert \(write\) on env=prod/,
  );
  assert.match(confirm.stdout, /confirm-stage-prod/);
  // DENY exits 1, as `kubectl auth can-i` does on "no", also with -o json: the decision is still on stdout.
  const denied = dvm(home, [
    'policy',
    'test',
    '--principal',
    'role:viewer',
    '--action',
    'notify.alert',
    '-o',
    'json',
  ]);
  assert.equal(denied.status, 1, denied.stderr);
  const deny = JSON.parse(denied.stdout);
  assert.deepEqual([deny.decision, deny.policyIds], ['deny', ['default-deny']]);
  // An environment no request could name gets no decision: execute would refuse it first.
  for (const env of ['env=', 'env=PROD']) {
    const bad = dvm(home, adminInfoPolicyTest(env));
    assert.equal(bad.status, 2, bad.stdout);
    assert.match(bad.stderr, /DVM_USAGE: --target env=\S* is not an environment name/);
  }

  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'freeze.cedar'),
    '@id("freeze")\nforbid (principal, action, resource) when { resource.env == "prod" };\n',
  );
  const frozen = dvm(home, adminInfoPolicyTest('env=prod'));
  assert.equal(frozen.status, 1, frozen.stderr);
  assert.match(frozen.stdout, /^DENY[\s\S]*freeze/);
  assert.match(dvmOk(home, ['policy', 'list']).stdout, /^freeze\s+forbid\s+.*freeze\.cedar:1$/m);
  writeFileSync(
    join(home, 'policies', 'bad.cedar'),
    'permit (principal, action, resource)\nwhen { context.risk == };\n',
  );
  const invalid = dvm(home, ['policy', 'validate']);
  assert.equal(invalid.status, 1);
  assert.match(invalid.stderr, /DVM_POLICY_INVALID .*bad\.cedar:2/);
});

test("policies see a principal's owner: a token's, local's, or the one --owner gives role:ROLE in dvm policy test", () => {
  const home = tempHome();
  dvmOk(home, [
    'token',
    'create',
    '--name',
    'alice-ci',
    '--role',
    'operator',
    '--owner',
    'alice',
    '--ttl',
    '1h',
  ]);
  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'alice.cedar'),
    '@id("not-alice")\nforbid (principal, action, resource) when { principal.owner == "alice" };\n',
  );
  const test = (...args: string[]) =>
    dvm(home, ['policy', 'test', '--action', 'notify.alert', '--target', 'env=dev', ...args]);
  const token = test('--principal', 'alice-ci');
  assert.equal(token.status, 1, token.stdout + token.stderr);
  assert.match(token.stdout, /^DENY: alice-ci \(operator, owner alice\) → notify\.alert[\s\S]*not-alice/);
  const role = test('--principal', 'role:operator', '--owner', 'alice', '-o', 'json');
  assert.equal(role.status, 1, role.stdout + role.stderr);
  assert.deepEqual(
    [JSON.parse(role.stdout).principal.owner, JSON.parse(role.stdout).policyIds],
    ['alice', ['not-alice']],
  );
  for (const other of [
    ['--principal', 'role:operator'],
    ['--principal', 'role:operator', '--owner', 'bob'],
  ]) {
    const run = test(...other);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^ALLOW: role:operator \(operator(, owner bob)?\)/);
  }
  const ownOwner = test('--principal', 'alice-ci', '--owner', 'bob');
  assert.equal(ownOwner.status, 2, ownOwner.stdout);
  assert.match(ownOwner.stderr, /DVM_USAGE: --owner is for a role:ROLE principal, not for alice-ci/);
});

test('dvm policy test with the two-person rule: what no permit allows is DENY, not an approval to ask for', () => {
  const home = tempHome();
  useTwoPersonRule(home);
  // Exit status 1 on DENY, 0 on an ALLOW that waits for a second principal: it is not refused.
  const test = (principal: string, action: string) => {
    const run = dvm(home, [
      'policy',
      'test',
      '--principal',
      principal,
      '--action',
      action,
      '--target',
      'env=prod',
    ]);
    assert.equal(run.status, run.stdout.startsWith('DENY') ? 1 : 0, run.stdout + run.stderr);
    return run.stdout;
  };
  assert.match(
    test('role:viewer', 'notify.alert'),
    /^DENY: role:viewer \(viewer\) → notify\.alert[\s\S]*default-deny/,
  );
  assert.match(test('role:operator', 'data.truncate'), /^DENY: role:operator/);
  assert.match(
    test('role:operator', 'notify.alert'),
    /^ALLOW after confirmation by a second principal: role:operator/,
  );
});

test('dvm policy test exits 1 on DENY and 0 on ALLOW, also after confirmation (a CI gate, like kubectl auth can-i)', () => {
  const home = tempHome();
  const test = (role: string, env: string, ...output: string[]) =>
    dvm(home, [
      'policy',
      'test',
      '--principal',
      `role:${role}`,
      '--action',
      'notify.alert',
      '--target',
      `env=${env}`,
      ...output,
    ]);
  const cases: [string, string, RegExp, number][] = [
    ['operator', 'dev', /^ALLOW: /, 0],
    ['operator', 'prod', /^ALLOW after confirmation: /, 0],
    [
      'viewer',
      'dev',
      /^DENY: role:viewer \(viewer\) → notify\.alert \(write\) on env=dev\n {2}default-deny: /,
      1,
    ],
  ];
  for (const [role, env, verdict, status] of cases) {
    const run = test(role, env);
    assert.match(run.stdout, verdict);
    assert.equal(run.status, status, `${role} in ${env}: ${run.stdout}${run.stderr}`);
    assert.equal(run.stderr, '', 'a decision is no error');
    const json = test(role, env, '-o', 'json');
    assert.equal(json.status, status);
    assert.equal(
      JSON.parse(json.stdout).decision,
      status ? 'deny' : /confirmation/.test(run.stdout) ? 'confirm' : 'allow',
    );
  }
  assert.match(dvmOk(home, ['policy', '--help']).stdout, /exits 1 on DENY/);
});

test('dvm policy test with a revoked, expired or reserved token says DENY: every request with it is refused 401', () => {
  const home = tempHome();
  createToken(home, 'gone', 'admin');
  createToken(home, 'live', 'admin', '24h');
  dvmOk(home, ['token', 'revoke', 'gone']);
  // Tokens an older dvm let through, or whose time ran out.
  const db = new DatabaseSync(join(home, 'agent.db'));
  const insert = db.prepare(
    "INSERT INTO tokens (id, name, role, hash, created_at, expires_at) VALUES (?, ?, 'admin', '00', ?, ?)",
  );
  insert.run('0000aaaa', 'old', '2020-01-01T00:00:00.000Z', '2020-01-02T00:00:00.000Z');
  insert.run('0000bbbb', 'anonymous', '2020-01-01T00:00:00.000Z', null);
  db.close();
  const test = (name: string, ...output: string[]) =>
    dvm(home, ['policy', 'test', '--principal', name, '--action', 'system.info', ...output]);
  const refused: [string, RegExp, string][] = [
    [
      'gone',
      /^DENY: token gone is revoked \(since \d{4}-\d\d-\d\dT[^)]+\): every request with it is refused 401 before any policy\n$/,
      'revoked',
    ],
    [
      'old',
      /^DENY: token old expired at 2020-01-02T00:00:00\.000Z: every request with it is refused 401 before any policy\n$/,
      'expired',
    ],
    [
      'anonymous',
      /^DENY: token anonymous has the name of a built-in principal: every request with it is refused 401 before any policy\n$/,
      'reserved',
    ],
  ];
  for (const [name, verdict, reason] of refused) {
    const run = test(name);
    assert.equal(run.status, 1, `${name}: ${run.stdout}${run.stderr}`);
    assert.match(run.stdout, verdict);
    const json = test(name, '-o', 'json');
    assert.equal(json.status, 1);
    const answer = JSON.parse(json.stdout);
    assert.deepEqual([answer.decision, answer.policyIds, answer.unauthenticated], ['deny', [], reason]);
    assert.match(answer.reasons[0], /refused 401 before any policy/);
  }
  const live = test('live');
  assert.equal(live.status, 0, live.stderr);
  assert.match(live.stdout, /^ALLOW: live \(admin\) → system\.info/);
});

test('dvm token create without --ttl warns on stderr that the token never expires; stdout is the token alone', () => {
  const home = tempHome();
  const forever = dvmOk(home, ['token', 'create', '--name', 'forever', '--role', 'admin']);
  assert.match(forever.stdout, /^dvm_[0-9a-f]{8}_[A-Za-z0-9_-]{43}\n$/);
  assert.match(
    forever.stderr,
    /^warning: token forever never expires: pass --ttl \(e\.g\. --ttl 90d\) to limit it\n/m,
  );
  const limited = dvmOk(home, ['token', 'create', '--name', 'limited', '--role', 'admin', '--ttl', '90d']);
  assert.doesNotMatch(limited.stderr, /warning/);
  assert.match(
    dvmOk(home, ['token', 'list']).stdout,
    /^forever\s+\S+\s+forever\s+admin\s+active\s+\S+\s+<none>$/m,
  );
  const help = dvmOk(home, ['token', '--help']).stdout;
  assert.doesNotMatch(help, /\[--ttl 24h\]/, 'no default that is not one');
  assert.match(help, /without --ttl the token never expires/);
});

test('dvm audit lists what dvm action run did; verify passes, then fails after tampering', () => {
  const home = tempHome();
  dvmOk(home, ['action', 'run', 'system.info']);
  const denied = dvm(home, ['action', 'run', 'docker.nuke']);
  assert.equal(denied.status, 1);
  const table = dvmOk(home, ['audit']).stdout;
  assert.match(table, /^1\s+\S+\s+local\s+system\.info\s+allowed\s+dev/m);
  assert.match(table, /^2\s+\S+\s+local\s+system\.info\s+executed\s+dev/m);
  const intact = dvmOk(home, ['audit', 'verify']).stdout;
  assert.match(intact, /^audit chain intact: 2 entries\nhead: entry 2 [0-9a-f]{64}\n$/);
  const exported = dvmOk(home, ['audit', 'export'])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    exported.map((e) => e.decision),
    ['allowed', 'executed'],
  );

  const db = new DatabaseSync(join(home, 'agent.db'));
  db.prepare(
    `UPDATE audit SET entry = replace(entry, '"executed"', '"failed"'), decision = 'failed' WHERE seq = 2`,
  ).run();
  db.close();
  const broken = dvm(home, ['audit', 'verify']);
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /DVM_AUDIT_TAMPERED.*entry 2/);

  const truncated = new DatabaseSync(join(home, 'agent.db'));
  truncated.prepare('DELETE FROM audit').run();
  truncated.close();
  const empty = dvm(home, ['audit', 'verify']);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /DVM_AUDIT_TAMPERED.*2 entries are missing at the end/);
});

test('pipeline tasks run built-in actions through the same path: audited as local in env pipeline, and policy applies', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: ops, ecosystem: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: inspect, ecosystem: lab, domain: ops}
spec: {action: system.info}
`,
  });
  dvmOk(home, ['run', 'task', 'inspect', '-e', 'lab', '-d', 'ops']);
  const entries = dvmOk(home, ['audit', 'export'])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    entries.map((e) => [e.actor, e.action, e.env, e.decision]),
    [
      ['local', 'system.info', 'pipeline', 'allowed'],
      ['local', 'system.info', 'pipeline', 'executed'],
    ],
  );

  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'no-pipeline-info.cedar'),
    '@id("no-pipeline-info")\nforbid (principal, action, resource) when { resource.env == "pipeline" && context.action == "system.info" };\n',
  );
  const denied = dvm(home, ['run', 'task', 'inspect', '-e', 'lab', '-d', 'ops']);
  assert.equal(denied.status, 1);
  assert.match(denied.stdout + denied.stderr, /DVM_FORBIDDEN|policy denies/);
});

test('dvm audit filters by --target pairs and --request-id like GET /v1/audit', () => {
  const home = tempHome();
  dvmOk(home, ['action', 'run', 'system.info', '--target', 'cluster=eu']);
  dvmOk(home, ['action', 'run', 'system.info', '--env', 'stage']);
  const json = (args: string[]) =>
    JSON.parse(dvmOk(home, ['audit', ...args, '-o', 'json']).stdout).items as {
      target: string;
      requestId: string;
    }[];
  const eu = json(['--target', 'env=dev', '--target', 'cluster=eu']);
  assert.deepEqual(
    eu.map((e) => e.target),
    ['env=dev,cluster=eu', 'env=dev,cluster=eu'],
  );
  const byRequest = json(['--request-id', eu[0].requestId]);
  assert.deepEqual(
    byRequest.map((e) => e.requestId),
    [eu[0].requestId, eu[0].requestId],
  );
  assert.equal(json(['--target', 'env=prod']).length, 0);
  const bad = dvm(home, ['audit', '--since', '10']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /DVM_QUERY_INVALID/);
});

test('dvm action run lists every invalid input, in-process as through a remote agent', async () => {
  const home = tempHome();
  const local = dvm(home, ['action', 'run', 'system.info', '--param', 'zz=1', '--param', 'yy=2']);
  assert.equal(local.status, 1);
  assert.match(local.stderr, /DVM_ACTION_INPUT_INVALID zz: is not an input of system\.info/);
  assert.match(local.stderr, /DVM_ACTION_INPUT_INVALID yy: is not an input of system\.info/);
  const error = errorFromBody(422, {
    code: 'DVM_ACTION_INPUT_INVALID',
    message: 'input of action system.info is not valid: 2 problems',
    details: {
      causes: [
        {
          code: 'DVM_ACTION_INPUT_INVALID',
          message: 'is not an input of system.info',
          path: 'zz',
          fix: 'Remove it.',
        },
        { message: 'is not an input of system.info', path: 'yy' },
      ],
    },
  });
  assert.deepEqual(
    error.causes.map((c) => `${c.code} ${c.path}: ${c.message}`),
    [
      'DVM_ACTION_INPUT_INVALID zz: is not an input of system.info',
      'DVM_ACTION_INPUT_INVALID yy: is not an input of system.info',
    ],
  );
});

test('a __proto__ key in a param is refused in-process and by dvm policy test as over HTTP: nothing runs or is audited', () => {
  const home = tempHome();
  const poisoned = ['--param', 'message=m', '--param', 'details={"a":[{"__proto__":{"target":"prod-db"}}]}'];
  const run = dvm(home, ['action', 'run', 'notify.alert', ...poisoned]);
  assert.equal(run.status, 1, run.stdout);
  assert.match(
    run.stderr,
    /DVM_REQUEST_FORBIDDEN_KEY: the request has a forbidden key at params\.details\.a\[0\]\.__proto__/,
  );
  assert.deepEqual(JSON.parse(dvmOk(home, ['audit', '-o', 'json']).stdout).items, []);
  const tested = dvm(home, [
    'policy',
    'test',
    '--principal',
    'local',
    '--action',
    'notify.alert',
    ...poisoned,
  ]);
  assert.equal(tested.status, 1);
  assert.match(tested.stderr, /DVM_REQUEST_FORBIDDEN_KEY .* at params\.details\.a\[0\]\.__proto__/);
  assert.doesNotMatch(tested.stdout, /ALLOW|DENY/);
  // At the top level too: --param __proto__=… is a key of the request, not the params' prototype.
  const top = dvm(home, ['action', 'run', 'system.info', '--param', '__proto__=1']);
  assert.equal(top.status, 1);
  assert.match(top.stderr, /DVM_REQUEST_FORBIDDEN_KEY: the request has a forbidden key at params\.__proto__/);
});

test('dvm action run refuses the pipeline environment (the tasks of a run have it): no way around the prod gates from the console', () => {
  const home = tempHome();
  for (const flags of [
    ['--env', 'pipeline'],
    ['--target', 'env=pipeline'],
  ]) {
    const run = dvm(home, ['action', 'run', 'notify.alert', '--param', 'message=m', ...flags, '--yes']);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /DVM_USAGE.*the pipeline environment is for the tasks of a run/);
  }
  assert.deepEqual(JSON.parse(dvmOk(home, ['audit', '-o', 'json']).stdout).items, [], 'nothing was decided');
});

test('dvm policy test shows a reason with control characters escaped (it cannot rewrite the verdict line), and the fix of a denial', () => {
  const home = tempHome();
  mkdirSync(join(home, 'policies'));
  // Cedar's escapes: the reason holds an ESC sequence that clears the line and a carriage return.
  writeFileSync(
    join(home, 'policies', 'sneaky.cedar'),
    '@id("sneaky")\n@reason("frozen\\u{1b}[2K\\rALLOW: fine")\nforbid (principal, action, resource) when { context.action == "system.info" };\n',
  );
  const raw = (text: string) => text.includes('\u001b') || text.includes('\r');
  const tested = dvm(home, ['policy', 'test', '--principal', 'local', '--action', 'system.info']);
  assert.equal(tested.status, 1, tested.stderr);
  assert.equal(raw(tested.stdout), false, tested.stdout);
  assert.match(tested.stdout, /^DENY: local \(admin\)/);
  assert.match(tested.stdout, /\n {2}sneaky: frozen\\x1b\[2K\\rALLOW: fine\n/);
  assert.match(
    tested.stdout,
    /\n {2}fix: Policy "sneaky" \(sneaky\.cedar:1\) forbids this whatever the role/,
  );
  assert.equal(raw(dvmOk(home, ['policy', 'list']).stdout), false);
});

test('dvm action run --confirmation-token runs what a second principal approved (two-person rule), remote and in-process', async () => {
  const home = tempHome();
  useTwoPersonRule(home);
  const alice = createToken(home, 'alice', 'operator');
  const bob = createToken(home, 'bob', 'operator');
  // No Docker here: an approved request gets past policy and fails connecting, which is all this test needs.
  const serve = await startServe(home, { DOCKER_HOST: 'unix:///nonexistent/dvm-test.sock' });
  try {
    const args = ['action', 'run', 'docker.restart_container', '--param', 'container=web', '--env', 'prod'];
    for (const [who, env] of [
      [
        'alice',
        { DVM_SERVER: serve.url, DVM_TOKEN: alice, DOCKER_HOST: 'unix:///nonexistent/dvm-test.sock' },
      ],
      ['local', { DOCKER_HOST: 'unix:///nonexistent/dvm-test.sock' }],
    ] as const) {
      const asked = await dvmAsync(home, [...args, '--yes'], { env });
      assert.equal(asked.status, 1);
      assert.match(asked.stderr, /DVM_CONFIRMATION_REQUIRED: .*second principal/);
      const token = /dvmc_[A-Za-z0-9_-]{43}/.exec(asked.stderr)?.[0] as string;
      assert.ok(token, asked.stderr);
      assert.match(asked.stderr, new RegExp(`--confirmation-token ${token}`), 'the fix says how to run it');
      const approved = await api(serve.url, 'POST', '/v1/confirmations/approve', {
        token: bob,
        body: { confirmation_token: token },
      });
      assert.equal(approved.status, 200, approved.text);
      const ran = await dvmAsync(home, [...args, '--confirmation-token', token], { env });
      assert.doesNotMatch(ran.stderr, /CONFIRMATION/, `${who}: ${ran.stderr}`);
      assert.match(ran.stderr, /DVM_CONNECTOR_UNAVAILABLE/, `${who}: ${ran.stderr}`);
      const again = await dvmAsync(home, [...args, '--confirmation-token', token], { env });
      assert.match(again.stderr, /DVM_CONFIRMATION_INVALID/, 'the token is single use');
    }
  } finally {
    await serve.stop();
  }
});

test("on a terminal, dvm action run asks to type the environment's name, not yes, before a confirmed run", async (t) => {
  if (!HAS_SCRIPT) return t.skip('util-linux `script` is not installed: no pseudo-terminal');
  const home = tempHome();
  // The home's own redaction patterns apply to the question too.
  writeFileSync(join(home, 'config.yaml'), 'redact:\n  patterns: ["sk_live_[A-Za-z0-9]+"]\n');
  const run = ['action', 'run', 'notify.alert', '--param', 'message=x sk_live_ABC123', '--env', 'stage'];
  const asked = (output: string) => output.includes("Type the environment's name (stage) to run it:");
  const yes = await dvmPty(home, run, { keys: 'yes\r', typeWhen: asked });
  assert.equal(yes.status, 1, yes.output);
  assert.match(yes.output, /notify\.alert@1\.0\.0 is a write action on env=stage \(.*need confirmation\)/);
  assert.match(yes.output, /^ {2}params: message=x \[REDACTED\]\r?$/m, 'the question shows what will run');
  assert.doesNotMatch(yes.output, /sk_live_ABC123/);
  assert.match(yes.output, /DVM_CANCELLED: not confirmed \(the answer was not "stage"\); nothing ran/);
  const named = await dvmPty(home, run, { keys: 'stage\r', typeWhen: asked });
  // Past the confirmation, it runs: here it fails for want of a webhook, which is all this test needs.
  assert.match(named.output, /DVM_NOTIFY_NOT_CONFIGURED/, named.output);
  const entries = dvmOk(home, ['audit', '--action', 'notify.alert', '-o', 'json']).stdout;
  assert.deepEqual(
    (JSON.parse(entries).items as { decision: string }[]).map((e) => e.decision),
    ['confirmation_required', 'confirmation_required', 'allowed', 'failed'],
  );
});
