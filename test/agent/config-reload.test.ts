import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { tempHome } from '../helpers/dvm.ts';

// A JSON webhook that keeps the bodies it is sent.
async function webhook(): Promise<{ url: string; bodies: Record<string, unknown>[]; server: Server }> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

const hooks = await Promise.all([webhook(), webhook()]);
after(() => {
  for (const hook of hooks) hook.server.close();
});

test('dvm serve applies an edited config.yaml without a restart (redaction, webhooks, environments, request rate); a broken one is reported with its line and the one in force stays', async () => {
  const [first, second] = hooks;
  const home = tempHome();
  const config = join(home, 'config.yaml');
  writeFileSync(config, `notify:\n  alert: {url: "${first.url}"}\n`);
  const admin = createToken(home, 'root', 'admin');
  const serve = await startServe(home);
  let n = 0;
  const execute = (action: string, env: string, params: Record<string, unknown> = {}) =>
    api(serve.url, 'POST', '/v1/actions/execute', {
      token: admin,
      body: { request_id: `r${n++}`, action, params, target: { env } },
    });
  const audited = async (requestId: string) =>
    (await api(serve.url, 'GET', `/v1/audit?request_id=${requestId}&decision=executed`, { token: admin }))
      .body.items as { params: { message: string } }[];
  const until = async (check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await check()); i++) await sleep(100);
    assert.ok(await check(), serve.output());
  };
  const reloads = () => serve.output().match(/config\.yaml reloaded/g)?.length ?? 0;
  const errors = () => serve.output().match(/error DVM_SCHEMA_INVALID \S*config\.yaml:\d+/g)?.length ?? 0;
  const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
  try {
    // As it started: webhook one, no pattern of the home's own, any environment.
    assert.equal((await execute('notify.alert', 'dev', { message: `deploy ${secret}` })).status, 200);
    assert.equal(first.bodies.length, 1);
    assert.deepEqual(
      (await audited('r0')).map((e) => e.params.message),
      [`deploy ${secret}`],
    );
    assert.equal((await execute('system.info', 'stage')).status, 200);

    writeFileSync(
      config,
      `notify:\n  alert: {url: "${second.url}"}\nredact:\n  patterns: ["sk_live_[A-Za-z0-9]+"]\nagent:\n  environments: [dev]\n`,
    );
    await until(() => reloads() === 1);
    assert.match(serve.output(), /config\.yaml reloaded: .*environments dev/);
    const sent = await execute('notify.alert', 'dev', { message: `deploy ${secret}` });
    assert.equal(sent.status, 200, sent.text);
    assert.equal(second.bodies.length, 1, 'the new webhook gets the alert');
    assert.equal(first.bodies.length, 1, 'the old one no longer does');
    assert.equal(
      (second.bodies[0] as { message: string }).message,
      `deploy ${secret}`,
      'the action gets the value',
    );
    assert.deepEqual(
      (await audited(`r${n - 1}`)).map((e) => e.params.message),
      ['deploy [REDACTED]'],
      'the new pattern redacts the audit',
    );
    // An environment answered before (and so cached) is now outside the binding.
    const stage = await execute('system.info', 'stage');
    assert.equal(stage.status, 403);
    assert.match(String(stage.body.message), /agent\.environments/);

    // A value that does not check out: reported with its line, and the configuration in force stays whole.
    writeFileSync(
      config,
      `notify:\n  alert: {url: "${first.url}"}\nagent:\n  environments: [dev]\n  retention: soon\n`,
    );
    await until(() => errors() === 1);
    assert.match(
      serve.output(),
      /config\.yaml:5:\d+ agent\.retention: .*not "soon" \(the configuration in force stays/,
    );
    assert.equal((await execute('system.info', 'stage')).status, 403);
    assert.equal((await execute('notify.alert', 'dev', { message: `again ${secret}` })).status, 200);
    assert.equal(second.bodies.length, 2, 'the webhook in force is still the second');
    assert.deepEqual(
      (await audited(`r${n - 1}`)).map((e) => e.params.message),
      ['again [REDACTED]'],
    );

    // Not YAML at all: the line of the syntax error is named.
    writeFileSync(config, 'agent:\n  environments: [dev\n');
    await until(() => /error DVM_YAML_SYNTAX \S*config\.yaml:\d+:\d+: /.test(serve.output()));
    assert.equal((await execute('system.info', 'stage')).status, 403);

    // An alert rule whose webhook is not configured is refused the same way (nothing of the file is applied).
    writeFileSync(
      config,
      `notify:\n  alert: {url: "${first.url}"}\nagent:\n  alerts:\n    - {name: changes, notify: team}\n`,
    );
    await until(() => errors() === 2);
    assert.match(
      serve.output(),
      /config\.yaml:5:\d+ agent\.alerts\[0\]\.notify: agent\.alerts\[0\] \(changes\) has no webhook/,
    );
    assert.equal((await execute('system.info', 'stage')).status, 403);

    // A file moved aside keeps what is in force (dropping the binding and the patterns would fail open).
    renameSync(config, `${config}.aside`);
    await until(() => /warning: config\.yaml is gone: the configuration in force stays/.test(serve.output()));
    assert.equal((await execute('system.info', 'stage')).status, 403);
    renameSync(`${config}.aside`, config);

    // Alert rules set live post to their webhook; the binding is gone with the setting, and the log says so.
    writeFileSync(
      config,
      `notify:\n  alert: {url: "${first.url}"}\n  team: {url: "${second.url}"}\nagent:\n  alerts:\n    - {name: stage-reads, notify: team, env: [stage], decision: [executed]}\n`,
    );
    await until(() => reloads() === 2);
    assert.equal((await execute('system.info', 'stage')).status, 200, 'the binding is gone');
    assert.match(
      serve.output(),
      /warning: agent\.environments was removed: this agent now acts on any environment/,
    );
    assert.match(serve.output(), /warning: redact\.patterns went from 1 to 0/);
    await until(() => second.bodies.some((b) => b.event === 'dvm.team'));
    assert.match(
      String(second.bodies.find((b) => b.event === 'dvm.team')?.message),
      /stage-reads: executed system\.info/,
    );

    // A request rate set live: of three requests sent at once, one goes through and the others are refused.
    writeFileSync(config, 'agent:\n  limits: {requests_per_second: 1, request_burst: 1}\n');
    await until(() => reloads() === 3);
    const burst = await Promise.all([1, 2, 3].map(() => execute('system.info', 'stage')));
    assert.deepEqual(burst.map((a) => a.status).sort(), [200, 429, 429], burst.map((a) => a.text).join('\n'));
    assert.equal(burst.find((a) => a.status === 429)?.body.code, 'DVM_RATE_LIMITED');
    assert.equal(serve.child.exitCode, null, 'still running');
  } finally {
    await serve.stop();
  }
});
