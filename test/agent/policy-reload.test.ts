import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { tempHome } from '../helpers/dvm.ts';

test('dvm serve reloads changed policy files; a broken file is reported and the previous policies stay', async () => {
  const home = tempHome();
  const admin = createToken(home, 'root', 'admin');
  const serve = await startServe(home);
  let n = 0;
  const info = () =>
    api(serve.url, 'POST', '/v1/actions/execute', {
      token: admin,
      body: { request_id: `r${n++}`, action: 'system.info', target: { env: 'dev' } },
    });
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 50 && !(await check()); i++) await sleep(100);
    assert.ok(await check());
  };
  try {
    assert.equal((await info()).status, 200);
    mkdirSync(join(home, 'policies'));
    writeFileSync(
      join(home, 'policies', 'freeze.cedar'),
      '@id("freeze")\nforbid (principal, action, resource) when { context.action == "system.info" };\n',
    );
    await until(async () => (await info()).status === 403);
    const denied = await info();
    assert.deepEqual((denied.body.details as { policy_ids: string[] }).policy_ids, ['freeze']);

    writeFileSync(
      join(home, 'policies', 'broken.cedar'),
      'permit (principal, action, resource)\nwhen { context.risk == };\n',
    );
    await until(async () => /DVM_POLICY_INVALID .*broken\.cedar:2/.test(serve.output()));
    assert.equal((await info()).status, 403, 'the previous policies stay in force');
    // A monitor sees it too: the refused reload, and the policies still in force.
    const metrics = (await api(serve.url, 'GET', '/metrics', { token: admin })).text;
    assert.match(metrics, /^dvm_policy_reload_failing 1$/m);
    assert.match(metrics, /^dvm_policies_loaded [1-9]\d*$/m);

    rmSync(join(home, 'policies', 'broken.cedar'));
    rmSync(join(home, 'policies', 'freeze.cedar'));
    await until(async () => (await info()).status === 200);
    assert.match(
      (await api(serve.url, 'GET', '/metrics', { token: admin })).text,
      /^dvm_policy_reload_failing 0$/m,
    );
  } finally {
    await serve.stop();
  }
});

test('dvm serve survives policy entries it cannot read: each is DVM_POLICY_INVALID naming it, old policies stay', async () => {
  const home = tempHome();
  const admin = createToken(home, 'root', 'admin');
  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'freeze.cedar'),
    '@id("freeze")\nforbid (principal, action, resource) when { context.action == "system.info" };\n',
  );
  const serve = await startServe(home);
  let n = 0;
  const info = () =>
    api(serve.url, 'POST', '/v1/actions/execute', {
      token: admin,
      body: { request_id: `r${n++}`, action: 'system.info', target: { env: 'dev' } },
    });
  const until = async (check: () => Promise<boolean> | boolean) => {
    for (let i = 0; i < 50 && !(await check()); i++) await sleep(100);
    assert.ok(await check(), serve.output());
  };
  try {
    assert.equal((await info()).status, 403);
    const dangling = join(home, 'policies', 'dangling.cedar');
    symlinkSync('/nonexistent/x', dangling);
    await until(() => /DVM_POLICY_INVALID \S*dangling\.cedar: .*does not exist/.test(serve.output()));
    assert.equal(serve.child.exitCode, null, 'still running');
    assert.equal((await info()).status, 403, 'the previous policies stay in force');
    rmSync(dangling);

    const dir = join(home, 'policies', 'dir.cedar');
    mkdirSync(dir);
    await until(() => /DVM_POLICY_INVALID \S*dir\.cedar: .*is a directory/.test(serve.output()));
    assert.equal(serve.child.exitCode, null, 'still running');
    assert.equal((await info()).status, 403);
    rmSync(dir, { recursive: true });

    // Text Cedar's engine cannot take (it traps on it) and a device behind a link: refused, decisions go on.
    const deep = join(home, 'policies', 'deep.cedar');
    writeFileSync(
      deep,
      `permit (principal, action, resource) when { ${'('.repeat(300)}true${')'.repeat(300)} };`,
    );
    await until(() =>
      /DVM_POLICY_INVALID \S*deep\.cedar:1: .*it nests .* deeper than 32 levels/.test(serve.output()),
    );
    assert.equal((await info()).status, 403, 'the previous policies stay in force, and decide');
    rmSync(deep);
    symlinkSync('/dev/zero', join(home, 'policies', 'zero.cedar'));
    await until(() => /DVM_POLICY_INVALID \S*zero\.cedar: .*not a regular file/.test(serve.output()));
    assert.equal((await info()).status, 403);
    rmSync(join(home, 'policies', 'zero.cedar'));

    rmSync(join(home, 'policies', 'freeze.cedar'));
    await until(async () => (await info()).status === 200);
    assert.doesNotMatch(serve.output(), /ENOENT|EISDIR.*\n\s+at /);
    assert.doesNotMatch(serve.output(), /DVM_INTERNAL|memory access/);
  } finally {
    await serve.stop();
  }
});

test('dvm serve reloads a policy file whose mode or owner changed (a chmod that makes it readable changes nothing else)', async () => {
  const home = tempHome();
  mkdirSync(join(home, 'policies'));
  const file = join(home, 'policies', 'freeze.cedar');
  writeFileSync(
    file,
    '@id("freeze")\nforbid (principal, action, resource) when { resource.env == "prod" };\n',
  );
  const serve = await startServe(home);
  const reloads = () => serve.output().match(/policies reloaded/g)?.length ?? 0;
  try {
    await sleep(1500);
    const before = reloads();
    chmodSync(file, 0o640);
    for (let i = 0; i < 50 && reloads() === before; i++) await sleep(100);
    assert.equal(reloads(), before + 1, serve.output());
  } finally {
    await serve.stop();
  }
});
