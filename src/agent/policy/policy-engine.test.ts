import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Risk } from '../../actions/action.ts';
import type { DvmError } from '../../errors/dvm-error.ts';
import { LOCAL_PRINCIPAL, type Role } from '../auth/principal.ts';
import { PolicyEngine, principalFor } from './policy-engine.ts';

function home(files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-policy-'));
  mkdirSync(join(dir, 'policies'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'policies', name), text);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const ask = (
  engine: PolicyEngine,
  role: Role,
  risk: Risk,
  env: string,
  extra: { action?: string; confirmed?: boolean; approver?: string; name?: string; dryRun?: boolean } = {},
) =>
  engine.decide({
    principal: principalFor(extra.name ?? `someone-${role}`, role),
    action: {
      name: extra.action ?? (risk === 'read' ? 'docker.logs' : 'docker.restart_container'),
      version: '1.0.0',
      risk,
    },
    target: { env },
    confirmed: extra.confirmed ?? false,
    dryRun: extra.dryRun ?? false,
    ...(extra.approver ? { approver: extra.approver } : {}),
  }).decision;

test('the default policy: role × risk × environment', async () => {
  const engine = await PolicyEngine.load();
  const expected: Record<Role, Record<Risk, string>> = {
    viewer: { read: 'allow', write: 'deny', destructive: 'deny' },
    operator: { read: 'allow', write: 'allow', destructive: 'deny' },
    admin: { read: 'allow', write: 'allow', destructive: 'allow' },
  };
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    for (const risk of ['read', 'write', 'destructive'] as const) {
      const dev = expected[role][risk];
      assert.equal(ask(engine, role, risk, 'dev'), dev, `${role} ${risk} dev`);
      // In stage and prod, what is allowed and not a read needs confirmation first.
      const gated = dev === 'allow' && risk !== 'read' ? 'confirm' : dev;
      assert.equal(ask(engine, role, risk, 'stage'), gated, `${role} ${risk} stage`);
      assert.equal(ask(engine, role, risk, 'prod'), gated, `${role} ${risk} prod`);
      // So does an environment name dvm does not know (deny by default): `production` is not a way around it.
      for (const unknown of ['production', 'prd', 'Prod'])
        assert.equal(ask(engine, role, risk, unknown), gated, `${role} ${risk} ${unknown}`);
      for (const safe of ['test', 'local'])
        assert.equal(ask(engine, role, risk, safe), dev, `${role} ${risk} ${safe}`);
      // pipeline is ungated for dvm's own pipeline tasks (the local user) only: a token naming it is denied, or it
      // would be a way around the stage and prod gates.
      assert.equal(ask(engine, role, risk, 'pipeline'), 'deny', `${role} ${risk} pipeline`);
      if (gated === 'confirm') assert.equal(ask(engine, role, risk, 'prod', { confirmed: true }), 'allow');
    }
  }
  assert.equal(
    ask(engine, 'operator', 'write', 'prod', { dryRun: true }),
    'allow',
    'a dry run needs no confirmation',
  );
  const pipelineTask = engine.decide({
    principal: LOCAL_PRINCIPAL,
    action: { name: 'docker.restart_container', version: '1.0.0', risk: 'write' },
    target: { env: 'pipeline' },
    confirmed: false,
    dryRun: false,
  });
  assert.equal(pipelineTask.decision, 'allow', 'a pipeline task (the local user) runs ungated');
  const token = engine.decide({
    principal: principalFor('op', 'admin'),
    action: { name: 'docker.restart_container', version: '1.0.0', risk: 'write' },
    target: { env: 'pipeline' },
    confirmed: true,
    dryRun: false,
  });
  assert.equal(token.decision, 'deny');
  assert.deepEqual(token.policyIds, ['pipeline-env-local-only']);
});

test('an action outside the allowlist is denied to everyone, with the policy that decided', async () => {
  const engine = await PolicyEngine.load();
  const answer = engine.decide({
    principal: principalFor('root', 'admin'),
    action: { name: 'shell.anything', version: '1.0.0', risk: 'read' },
    target: { env: 'dev' },
    confirmed: false,
    dryRun: false,
  });
  assert.equal(answer.decision, 'deny');
  assert.deepEqual(answer.policyIds, ['allowlist']);
  assert.match(answer.reasons[0], /only enabled actions/);
  assert.equal(
    ask(engine, 'admin', 'write', 'dev', { action: 'exec' }),
    'deny',
    'exec only for the local user',
  );
  assert.equal(
    engine.decide({
      principal: LOCAL_PRINCIPAL,
      action: { name: 'exec', version: '1.0.0', risk: 'write' },
      target: { env: 'dev' },
      confirmed: false,
      dryRun: false,
    }).decision,
    'allow',
  );
});

test('a user policy file adds a forbid; a broken one is rejected with its line and the old set stays', async () => {
  const h = home({
    'no-prod-restarts.cedar': `@id("no-prod-restarts")
@reason("no container restarts in prod during the freeze")
forbid (principal, action, resource)
when { context.action == "docker.restart_container" && resource.env == "prod" };
`,
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    const answer = engine.decide({
      principal: principalFor('ops', 'admin'),
      action: { name: 'docker.restart_container', version: '1.0.0', risk: 'write' },
      target: { env: 'prod' },
      confirmed: true,
      dryRun: false,
    });
    assert.deepEqual([answer.decision, answer.policyIds], ['deny', ['no-prod-restarts']]);
    assert.equal(ask(engine, 'admin', 'write', 'stage', { confirmed: true }), 'allow');

    writeFileSync(
      join(h.dir, 'policies', 'broken.cedar'),
      'permit (principal, action, resource)\nwhen { context.risk == };\n',
    );
    assert.throws(
      () => engine.reload(),
      (error: { code: string; location: { file: string; line: number } }) =>
        error.code === 'DVM_POLICY_INVALID' &&
        error.location.file.endsWith('broken.cedar') &&
        error.location.line === 2,
    );
    assert.equal(
      engine.policies().some((p) => p.id === 'no-prod-restarts'),
      true,
      'previous set still in force',
    );
    assert.equal(ask(engine, 'admin', 'write', 'prod', { confirmed: true }), 'deny');

    writeFileSync(
      join(h.dir, 'policies', 'broken.cedar'),
      'permit (principal, action, resource) when { context.nope == 1 };\n',
    );
    assert.throws(() => engine.reload(), { code: 'DVM_POLICY_INVALID', message: /nope|attribute/ });
  } finally {
    h.done();
  }
});

test('a policy entry that cannot be read is DVM_POLICY_INVALID naming it, and the previous set stays', async () => {
  const h = home({ 'freeze.cedar': '@id("freeze")\nforbid (principal, action, resource);\n' });
  try {
    const engine = await PolicyEngine.load(h.dir);
    for (const [name, make, why] of [
      ['dangling.cedar', (f: string) => symlinkSync('/nonexistent/x', f), /does not exist/],
      ['dir.cedar', (f: string) => mkdirSync(f), /is a directory/],
    ] as const) {
      const file = join(h.dir, 'policies', name);
      make(file);
      assert.throws(
        () => engine.reload(),
        (error: { code: string; message: string; location: { file: string } }) =>
          error.code === 'DVM_POLICY_INVALID' && error.location.file === file && why.test(error.message),
      );
      assert.equal(ask(engine, 'admin', 'read', 'dev'), 'deny', 'the previous policies stay in force');
      rmSync(file, { recursive: true });
    }
    await assert.rejects(
      async () => {
        symlinkSync('/nonexistent/x', join(h.dir, 'policies', 'at-start.cedar'));
        await PolicyEngine.load(h.dir);
      },
      { code: 'DVM_POLICY_INVALID', message: /at-start\.cedar/ },
    );
  } finally {
    h.done();
  }
});

test('the two-person rule: in prod a second principal must approve, never the requester', async () => {
  const h = home({
    'two-person.cedar': `@id("prod-second-approver")
@approval("other-principal")
@reason("in prod a second principal must approve write and destructive actions")
forbid (principal, action, resource)
when { context.risk != "read" && resource.env == "prod" && !context.dryRun }
unless { context has approver && context.approver != context.principal };
`,
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    const base = {
      principal: principalFor('alice', 'operator'),
      action: { name: 'docker.restart_container', version: '1.0.0', risk: 'write' as const },
      target: { env: 'prod' },
      dryRun: false,
    };
    const first = engine.decide({ ...base, confirmed: false });
    assert.equal(first.decision, 'confirm');
    assert.equal(first.approval, 'other-principal');
    const selfOnly = engine.decide({ ...base, confirmed: true });
    assert.deepEqual([selfOnly.decision, selfOnly.approval], ['deny', 'other-principal']);
    // Its fix: another principal, not a role (no role gets past the rule); a copy of the answer carries it.
    assert.match(String(selfOnly.fix), /^Another principal approves it first/);
    assert.equal({ ...selfOnly }.fix, selfOnly.fix);
    assert.equal(engine.decide({ ...base, confirmed: true, approver: 'alice' }).decision, 'deny');
    assert.equal(engine.decide({ ...base, confirmed: true, approver: 'bob' }).decision, 'allow');
    assert.equal(
      ask(engine, 'operator', 'write', 'stage', { confirmed: true }),
      'allow',
      'stage needs no second person',
    );
  } finally {
    h.done();
  }
});

test('a gate applies only to what would be permitted once it is satisfied; the rest is denied at once', async () => {
  const h = home({
    'two-person.cedar': readFileSync(
      new URL('../../../examples/policies/two-person-prod.cedar', import.meta.url),
      'utf8',
    ),
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    const decide = (role: Role, risk: Risk, extra: { confirmed?: boolean; approver?: string } = {}) => {
      const answer = engine.decide({
        principal: principalFor(`someone-${role}`, role),
        action: { name: risk === 'write' ? 'notify.alert' : 'data.truncate', version: '1.0.0', risk },
        target: { env: 'prod' },
        confirmed: extra.confirmed ?? false,
        dryRun: false,
        ...(extra.approver ? { approver: extra.approver } : {}),
      });
      return [answer.decision, answer.approval ?? null, [...answer.policyIds].sort().join(',')];
    };
    // No permit for these, whatever a second principal does: 403 now, not a 428 to approve.
    assert.deepEqual(decide('viewer', 'write'), ['deny', null, 'default-deny']);
    assert.deepEqual(decide('viewer', 'write', { confirmed: true }), ['deny', null, 'default-deny']);
    assert.deepEqual(decide('viewer', 'write', { confirmed: true, approver: 'other' }), [
      'deny',
      null,
      'default-deny',
    ]);
    assert.deepEqual(decide('operator', 'destructive'), ['deny', null, 'default-deny']);
    assert.deepEqual(decide('operator', 'destructive', { confirmed: true }), ['deny', null, 'default-deny']);
    // What is permitted keeps its gates.
    assert.deepEqual(decide('operator', 'write'), [
      'confirm',
      'other-principal',
      'confirm-stage-prod,prod-second-approver',
    ]);
    assert.deepEqual(decide('admin', 'destructive', { confirmed: true }), [
      'deny',
      'other-principal',
      'prod-second-approver',
    ]);
    assert.deepEqual(decide('admin', 'destructive', { confirmed: true, approver: 'other' })[0], 'allow');
  } finally {
    h.done();
  }
});

test('decisions reuse the preparsed policies (thousands per second)', async () => {
  const engine = await PolicyEngine.load();
  const started = performance.now();
  for (let i = 0; i < 2000; i++) ask(engine, 'operator', 'write', 'prod');
  const perDecisionMs = (performance.now() - started) / 2000;
  // Two evaluations each (the confirmation gate); re-parsing the policy text every time would cost milliseconds.
  assert.ok(perDecisionMs < 2, `${perDecisionMs.toFixed(3)} ms per decision`);
});

test("policies read a request's target keys and params as tags: text, and integers as numbers", async () => {
  const h = home({
    'least-privilege.cedar': `
@id("no-kube-system")
@reason("nobody changes kube-system")
forbid (principal, action, resource)
when { context.risk != "read" && resource.hasTag("namespace") && resource.getTag("namespace") == "kube-system" };

@id("scale-limit")
@reason("at most 10 replicas")
forbid (principal, action, resource)
when { context.action == "k8s.scale_deployment" && context.numbers.hasTag("replicas") && context.numbers.getTag("replicas") > 10 };

@id("web-only")
@reason("operators restart web-* containers only")
forbid (principal, action, resource)
when {
  context.action == "docker.restart_container" && principal.role == "operator" &&
  !(context.params.hasTag("container") && context.params.getTag("container") like "web-*")
};
`,
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    const decide = (action: string, target: Record<string, unknown>, params?: Record<string, unknown>) =>
      engine.decide({
        principal: principalFor('ops', 'operator'),
        action: { name: action, version: '1.0.0', risk: 'write' },
        target: { env: 'dev', ...target },
        confirmed: false,
        dryRun: false,
        ...(params ? { params } : {}),
      });
    const scale = (replicas: number, namespace = 'shop') =>
      decide('k8s.scale_deployment', { namespace }, { namespace, deployment: 'web', replicas });
    assert.equal(scale(3).decision, 'allow');
    assert.deepEqual(scale(11).policyIds, ['scale-limit']);
    assert.equal(scale(11).decision, 'deny');
    assert.deepEqual(scale(3, 'kube-system').policyIds, ['no-kube-system']);
    // Cached decisions keep requests with other tags apart.
    assert.equal(scale(3).decision, 'allow');
    assert.equal(decide('docker.restart_container', {}, { container: 'web-1' }).decision, 'allow');
    const other = decide('docker.restart_container', {}, { container: 'db-1' });
    assert.deepEqual([other.decision, other.reasons], ['deny', ['operators restart web-* containers only']]);
    assert.equal(decide('docker.restart_container', {}).decision, 'deny', 'no container param: no match');
  } finally {
    h.done();
  }
});

const SYSINFO_FORBID = `@id("no-sysinfo")
@reason("system.info is off here")
forbid (principal, action, resource) when { context.action == "system.info" };
`;

const askInfo = (engine: PolicyEngine) =>
  engine.decide({
    principal: principalFor('ops', 'operator'),
    action: { name: 'system.info', version: '1.0.0', risk: 'read' },
    target: { env: 'dev' },
    confirmed: false,
    dryRun: false,
  });

test('a policy nested or chained past what Cedar can take is DVM_POLICY_INVALID at its line; the policies in force keep deciding', async () => {
  const h = home({ 'a.cedar': SYSINFO_FORBID });
  try {
    const engine = await PolicyEngine.load(h.dir);
    assert.deepEqual(askInfo(engine).policyIds, ['no-sysinfo']);
    const deep = `// deep\npermit (principal, action, resource) when { ${'('.repeat(300)}true${')'.repeat(300)} };\n`;
    writeFileSync(join(h.dir, 'policies', 'deep.cedar'), deep);
    assert.throws(
      () => engine.reload(),
      (e: DvmError) =>
        e.code === 'DVM_POLICY_INVALID' &&
        /deep\.cedar:2: it nests parentheses, brackets and braces deeper than 32 levels; the previous policies stay in force/.test(
          e.message,
        ),
    );
    const chained = `permit (principal, action, resource) when { ${Array(5000).fill('true').join(' && ')} };\n`;
    writeFileSync(join(h.dir, 'policies', 'deep.cedar'), chained);
    assert.throws(() => engine.reload(), /more than 256 operators/);
    const decided = askInfo(engine);
    assert.deepEqual([decided.decision, decided.policyIds], ['deny', ['no-sysinfo']]);
    // Fixed, it loads: nothing of the refused file was kept.
    writeFileSync(join(h.dir, 'policies', 'deep.cedar'), '');
    engine.reload();
    assert.deepEqual(askInfo(engine).policyIds, ['no-sysinfo']);
  } finally {
    h.done();
  }
});

test('a Cedar engine that trapped is replaced: decisions go on with the policies in force, none is a crash', async () => {
  const h = home({ 'a.cedar': SYSINFO_FORBID });
  try {
    const engine = await PolicyEngine.load(h.dir);
    // The engine's WebAssembly instance, poisoned from outside: input Cedar cannot take makes it trap, and a trapped
    // instance fails every later call.
    const cedar = createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs');
    assert.throws(() =>
      cedar.policySetTextToParts(
        `permit (principal, action, resource) when { ${'('.repeat(400)}true${')'.repeat(400)} };`,
      ),
    );
    assert.throws(
      () => cedar.policySetTextToParts('permit (principal, action, resource);'),
      'the instance is broken',
    );
    const decided = askInfo(engine);
    assert.deepEqual([decided.decision, decided.policyIds], ['deny', ['no-sysinfo']]);
    const viewer = engine.decide({
      principal: principalFor('v', 'viewer'),
      action: { name: 'docker.logs', version: '1.0.0', risk: 'read' },
      target: { env: 'dev' },
      confirmed: false,
      dryRun: false,
    });
    assert.equal(viewer.decision, 'allow');
    engine.reload();
    assert.deepEqual(askInfo(engine).policyIds, ['no-sysinfo']);
    // A reload on a broken instance blames no innocent file: a fresh instance reads and tries each policy again.
    // (The engine's instance now is the one the recovery loaded: required again, from the module cache.)
    const current = createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs');
    assert.notEqual(current, cedar);
    assert.throws(() =>
      current.policySetTextToParts(
        `permit (principal, action, resource) when { ${'['.repeat(400)}${']'.repeat(400)} == [] };`,
      ),
    );
    writeFileSync(
      join(h.dir, 'policies', 'b.cedar'),
      '@id("also")\nforbid (principal, action, resource) when { context.action == "jvm.status" };\n',
    );
    engine.reload();
    assert.deepEqual(askInfo(engine).policyIds, ['no-sysinfo']);
    assert.ok(engine.policies().some((p) => p.id === 'also'));
  } finally {
    h.done();
  }
});

test('a policy file that is a device, a FIFO or too large is refused without reading it; a byte order mark is fine', async () => {
  const h = home({ 'a.cedar': `\uFEFF${SYSINFO_FORBID}` });
  try {
    const engine = await PolicyEngine.load(h.dir);
    assert.deepEqual(askInfo(engine).policyIds, ['no-sysinfo'], 'a BOM is not Cedar text');
    symlinkSync('/dev/zero', join(h.dir, 'policies', 'zero.cedar'));
    assert.throws(() => engine.reload(), /zero\.cedar: cannot be read: it is not a regular file/);
    rmSync(join(h.dir, 'policies', 'zero.cedar'));
    const fifo = join(h.dir, 'policies', 'pipe.cedar');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => engine.reload(), /pipe\.cedar: cannot be read: it is not a regular file/);
    rmSync(fifo);
    writeFileSync(join(h.dir, 'policies', 'big.cedar'), `// ${'x'.repeat(1024 * 1024)}\n`);
    assert.throws(() => engine.reload(), /big\.cedar: cannot be read: it is larger than 1048576 bytes/);
  } finally {
    h.done();
  }
});

test('a gate annotation with a value dvm does not know is refused at its line, not read as a deny or the two-person rule', async () => {
  for (const [annotation, fix] of [
    ['@confirmation("maybe")', /@confirmation\("required"\)/],
    ['@approval("bogus")', /@approval\("other-principal"\)/],
  ] as const) {
    const h = home({
      'gate.cedar': `// a gate\n${annotation}\nforbid (principal, action, resource) when { context.risk == "write" };\n`,
    });
    try {
      await assert.rejects(PolicyEngine.load(h.dir), (e: DvmError) => {
        assert.equal(e.code, 'DVM_POLICY_INVALID');
        assert.equal(e.location.line, 2, e.message);
        assert.match(e.message, /is not a gate dvm knows/);
        assert.match(e.causes[0].fix ?? '', fix);
        return true;
      });
    } finally {
      h.done();
    }
  }
});

test('a forbid that denies outright decides alone (no confirmation reason), and the fix fits the denial', async () => {
  const h = home({
    'freeze.cedar': `@id("no-prod-restart")
@reason("restarts in prod are frozen")
forbid (principal, action, resource)
when { context.action == "docker.restart_container" && resource.env == "prod" };
`,
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    const restart = (role: Role, env: string, confirmed = false, via: 'token' | 'local' = 'token') =>
      engine.decide({
        principal: principalFor(`someone-${role}`, role, via),
        action: { name: 'docker.restart_container', version: '1.0.0', risk: 'write' },
        target: { env },
        confirmed,
        dryRun: false,
      });
    // Unconfirmed, the confirmation gate is satisfied too: it is not a reason, no confirmation could make it run.
    for (const confirmed of [false, true]) {
      const frozen = restart('operator', 'prod', confirmed);
      assert.deepEqual(
        [frozen.decision, frozen.policyIds, frozen.reasons],
        ['deny', ['no-prod-restart'], ['restarts in prod are frozen']],
        `confirmed: ${confirmed}`,
      );
      assert.match(
        frozen.fix ?? '',
        /^Policy "no-prod-restart" \(freeze\.cedar:1\) forbids this whatever the role/,
      );
      assert.match(frozen.fix ?? '', /only an admin who changes or removes that policy can allow it/);
      assert.doesNotMatch(frozen.fix ?? '', /role (viewer|operator|admin)/);
    }
    // No role helps a viewer either: the freeze, not the missing permit, is what an admin would change.
    assert.deepEqual(restart('viewer', 'prod').policyIds, ['no-prod-restart']);
    assert.match(restart('viewer', 'prod').fix ?? '', /^Policy "no-prod-restart"/);
    // Where a role would be allowed, the fix names it (and only then).
    const viewer = restart('viewer', 'dev');
    assert.deepEqual([viewer.decision, viewer.policyIds], ['deny', ['default-deny']]);
    assert.match(viewer.fix ?? '', /^Ask an admin for a token with role operator or admin, which may run/);
    assert.equal(
      JSON.parse(JSON.stringify({ ...viewer })).fix,
      viewer.fix,
      'a copy (dvm policy test -o json) has it',
    );
    // A default forbid no role gets past (host commands for remote tokens): the policy, not a role.
    const remoteExec = engine.decide({
      principal: principalFor('root', 'admin'),
      action: { name: 'exec', version: '1.0.0', risk: 'write' },
      target: { env: 'dev' },
      confirmed: false,
      dryRun: false,
    });
    assert.deepEqual(remoteExec.policyIds, ['host-commands-local-only']);
    assert.match(
      remoteExec.fix ?? '',
      /^Policy "host-commands-local-only" \(default\.cedar:\d+\) forbids this/,
    );
    // A gate alone still challenges, and a plain allow has no fix.
    assert.deepEqual(
      [restart('operator', 'stage').decision, restart('operator', 'stage').fix],
      ['confirm', undefined],
    );
  } finally {
    h.done();
  }
});

test('a gate annotation on a permit is refused at its line: it would allow without any confirmation', async () => {
  for (const annotation of ['@confirmation("required")', '@approval("other-principal")']) {
    const h = home({
      'gate.cedar': `// meant as a gate\n${annotation}\npermit (principal, action, resource) when { context.risk == "write" };\n`,
    });
    try {
      await assert.rejects(PolicyEngine.load(h.dir), (e: DvmError) => {
        assert.equal(e.code, 'DVM_POLICY_INVALID');
        assert.equal(e.location.line, 2, e.message);
        assert.match(e.message, /is on a permit: only a forbid gates/);
        return true;
      });
    } finally {
      h.done();
    }
  }
});

test('a forbid whose condition fails to evaluate denies (Cedar would skip it and allow), saying why', async () => {
  const h = home({
    'tail.cedar': `@id("tail-limit")
@reason("tails of more than 1,000 lines are forbidden")
forbid (principal, action, resource)
when { context.numbers.hasTag("tail") && context.numbers.getTag("tail") * 1000000000000000 > 1000000000000000000 };
`,
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    const tail = (n: number) =>
      engine.decide({
        principal: principalFor('ops', 'admin'),
        action: { name: 'docker.logs', version: '1.0.0', risk: 'read' },
        target: { env: 'dev' },
        params: { tail: n },
        confirmed: false,
        dryRun: false,
      });
    assert.equal(tail(10).decision, 'allow');
    assert.deepEqual(
      [tail(5000).decision, tail(5000).reasons],
      ['deny', ['tails of more than 1,000 lines are forbidden']],
    );
    const overflow = tail(10_000_000);
    assert.deepEqual([overflow.decision, overflow.policyIds], ['deny', ['tail-limit']]);
    assert.match(overflow.reasons[0], /^policy tail-limit could not be evaluated, so it denies: .*overflow/);
  } finally {
    h.done();
  }
});

test('a policy file emptied while its policies are in force (rewritten in place) keeps them, and the other files still reload', async () => {
  const freeze = '@id("freeze")\nforbid (principal, action, resource) when { resource.env == "prod" };\n';
  const h = home({ 'freeze.cedar': freeze });
  try {
    const engine = await PolicyEngine.load(h.dir);
    assert.equal(ask(engine, 'admin', 'write', 'prod', { confirmed: true }), 'deny');
    writeFileSync(join(h.dir, 'policies', 'freeze.cedar'), '// being rewritten\n');
    // An urgent forbid added meanwhile in another file takes effect.
    writeFileSync(
      join(h.dir, 'policies', 'urgent.cedar'),
      '@id("urgent")\nforbid (principal, action, resource) when { resource.env == "stage" };\n',
    );
    engine.reload();
    assert.deepEqual(engine.reloadWarnings.length, 1);
    assert.match(
      engine.reloadWarnings[0],
      /freeze\.cedar held 1 policy in force and now holds none .*it stays in force/,
    );
    assert.equal(engine.reloadProblem, undefined);
    assert.equal(ask(engine, 'admin', 'write', 'prod', { confirmed: true }), 'deny', 'the freeze stays');
    assert.equal(ask(engine, 'admin', 'write', 'stage', { confirmed: true }), 'deny', 'the new forbid holds');
    writeFileSync(join(h.dir, 'policies', 'freeze.cedar'), freeze);
    engine.reload();
    assert.deepEqual(engine.reloadWarnings, []);
    rmSync(join(h.dir, 'policies', 'freeze.cedar'));
    engine.reload();
    assert.equal(
      ask(engine, 'admin', 'write', 'prod', { confirmed: true }),
      'allow',
      'removing the file drops it',
    );
  } finally {
    h.done();
  }
});

test('reloads alternate between two prepared sets: decisions stay right over many reloads', async () => {
  const h = home();
  try {
    const engine = await PolicyEngine.load(h.dir);
    for (let i = 0; i < 6; i++) {
      const freeze = i % 2 === 0;
      writeFileSync(
        join(h.dir, 'policies', 'freeze.cedar'),
        freeze
          ? '@id("freeze")\nforbid (principal, action, resource) when { resource.env == "prod" };\n'
          : '// off\n',
      );
      if (!freeze) rmSync(join(h.dir, 'policies', 'freeze.cedar'));
      engine.reload();
      assert.equal(
        ask(engine, 'admin', 'write', 'prod', { confirmed: true }),
        freeze ? 'deny' : 'allow',
        `reload ${i}`,
      );
      assert.equal(ask(engine, 'viewer', 'write', 'dev'), 'deny', `reload ${i}: the ungated set too`);
    }
  } finally {
    h.done();
  }
});

test('a lone @approval gate (no confirmation gate there) is a challenge for a second principal, not a 403 nobody can lift', async () => {
  const h = home({
    'two-person-test.cedar': `@id("test-second-approver")
@approval("other-principal")
@reason("in test a second principal approves writes")
forbid (principal, action, resource)
when { context.risk != "read" && resource.env == "test" && !context.dryRun }
unless { context has approver && context.approver != context.principal };
`,
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    const base = {
      principal: principalFor('alice', 'operator'),
      action: { name: 'docker.restart_container', version: '1.0.0', risk: 'write' as const },
      target: { env: 'test' },
      dryRun: false,
    };
    const first = engine.decide({ ...base, confirmed: false });
    assert.deepEqual(
      [first.decision, first.approval, first.policyIds],
      ['confirm', 'other-principal', ['test-second-approver']],
    );
    assert.deepEqual([engine.decide({ ...base, confirmed: true }).decision], ['deny']);
    assert.equal(engine.decide({ ...base, confirmed: true, approver: 'bob' }).decision, 'allow');
  } finally {
    h.done();
  }
});

test('an @approval gate no approval can satisfy (no `unless { context has approver … }`) denies, naming it, in prod and alone', async () => {
  const h = home({
    'broken-two-person.cedar': `@id("always-approval")
@approval("other-principal")
@reason("a second principal must approve")
forbid (principal, action, resource)
when { context.risk != "read" && (resource.env == "prod" || resource.env == "test") };
`,
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    for (const env of ['prod', 'test']) {
      const answer = engine.decide({
        principal: principalFor('alice', 'operator'),
        action: { name: 'docker.restart_container', version: '1.0.0', risk: 'write' },
        target: { env },
        confirmed: false,
        dryRun: false,
      });
      assert.deepEqual(
        [answer.decision, answer.approval, answer.policyIds],
        ['deny', undefined, ['always-approval']],
        env,
      );
      assert.match(
        String(answer.fix),
        /^No approval can satisfy "always-approval" \(broken-two-person\.cedar:1\)/,
        env,
      );
    }
  } finally {
    h.done();
  }
});

test("hidden names (an editor's .#x.cedar lock) are no policy files; a file that is not UTF-8 is refused, not read with U+FFFD", async () => {
  const h = home({
    'freeze.cedar': '@id("freeze")\nforbid (principal, action, resource) when { resource.env == "prod" };\n',
  });
  try {
    // Emacs' lock while a buffer is unsaved: a dangling link named .#freeze.cedar.
    symlinkSync('root@host.1234:1700000000', join(h.dir, 'policies', '.#freeze.cedar'));
    const engine = await PolicyEngine.load(h.dir);
    assert.deepEqual(
      engine.sources().map((f) => f.split('/').pop()),
      ['default.cedar', 'freeze.cedar'],
    );
    writeFileSync(
      join(h.dir, 'policies', 'latin1.cedar'),
      Buffer.concat([
        Buffer.from('@id("caf'),
        Buffer.from([0xe9]),
        Buffer.from('")\nforbid (principal, action, resource);\n'),
      ]),
    );
    assert.throws(
      () => engine.reload(),
      (e: DvmError) => e.code === 'DVM_POLICY_INVALID' && /latin1\.cedar: .*not UTF-8 text/.test(e.message),
    );
  } finally {
    h.done();
  }
});

test('an @approval gate that allows only named approvers is a challenge; the approval of a name it allows counts', async () => {
  const h = home({
    'named-approvers.cedar': `@id("sre-approves")
@approval("other-principal")
@reason("in prod alice or bob approves")
forbid (principal, action, resource)
when { context.risk != "read" && resource.env == "prod" && !context.dryRun }
unless { context has approver && ["alice", "bob"].contains(context.approver) && context.approver != context.principal };
`,
  });
  try {
    const engine = await PolicyEngine.load(h.dir);
    const base = {
      principal: principalFor('carol', 'operator'),
      action: { name: 'docker.restart_container', version: '1.0.0', risk: 'write' as const },
      target: { env: 'prod' },
      dryRun: false,
    };
    const first = engine.decide({ ...base, confirmed: false });
    assert.deepEqual([first.decision, first.approval], ['confirm', 'other-principal']);
    assert.equal(engine.decide({ ...base, confirmed: true, approver: 'alice' }).decision, 'allow');
    assert.equal(engine.decide({ ...base, confirmed: true, approver: 'mallory' }).decision, 'deny');
  } finally {
    h.done();
  }
});

test('a condition comparing with JSON whose keys are not sorted is refused at its line: params are compared sorted', async () => {
  const h = home({
    'labels.cedar': `// pages to oncall
@id("no-oncall-pages")
forbid (principal, action, resource)
when { context.params.hasTag("details") && context.params.getTag("details") == "{\\"team\\":\\"oncall\\",\\"page\\":true}" };
`,
  });
  try {
    await assert.rejects(PolicyEngine.load(h.dir), (e: DvmError) => {
      assert.equal(e.code, 'DVM_POLICY_INVALID');
      assert.equal(e.location.line, 2, e.message);
      assert.match(e.message, /is JSON whose object keys are not sorted/);
      assert.match(e.causes[0].fix ?? '', /\{\\"page\\":true,\\"team\\":\\"oncall\\"\}/);
      return true;
    });
    writeFileSync(
      join(h.dir, 'policies', 'labels.cedar'),
      '@id("no-oncall-pages")\nforbid (principal, action, resource)\nwhen { context.params.hasTag("details") && context.params.getTag("details") == "{\\"page\\":true,\\"team\\":\\"oncall\\"}" };\n',
    );
    const engine = await PolicyEngine.load(h.dir);
    const answer = engine.decide({
      principal: principalFor('ops', 'admin'),
      action: { name: 'notify.alert', version: '1.0.0', risk: 'write' },
      target: { env: 'dev' },
      params: { details: { team: 'oncall', page: true } },
      confirmed: false,
      dryRun: false,
    });
    assert.deepEqual([answer.decision, answer.policyIds], ['deny', ['no-oncall-pages']]);
  } finally {
    h.done();
  }
});
