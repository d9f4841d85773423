// `dvm deploy app` is the service.deploy action run through the agent's one path: a forbid on service.deploy in
// DVM_HOME/policies stops it as it stops `dvm action run service.deploy` (same coded error and exit status, nothing
// deployed), and without the forbid it deploys as before, audited as `dvm action run` audits it. Real dvm binary,
// process runtime, a real HTTP server as the App.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';
import { freePort } from '../support/services.ts';

const FREEZE = `@id("no-deploys")
@reason("deploys are frozen")
forbid (principal, action, resource)
when { context.action == "service.deploy" };
`;

function platform(appPort: number, appDir: string): string {
  const server = `require('node:http').createServer((q, s) => s.end('ok')).listen(${appPort}, '127.0.0.1')`;
  return `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: pol}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: shop, ecosystem: pol}
---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: web, ecosystem: pol, domain: shop}
spec:
  path: ${appDir}
  ports: [{containerPort: ${appPort}}]
  live:
    command: [node, -e, ${JSON.stringify(server)}]
`;
}

const answers = (port: number) =>
  fetch(`http://127.0.0.1:${port}/`).then(
    (r) => r.ok,
    () => false,
  );

type Entry = { actor: string; action: string; decision: string; env: string };
const auditOf = (home: string): Entry[] =>
  JSON.parse(dvmOk(home, ['audit', '--action', 'service.deploy', '-o', 'json']).stdout).items;

test('a forbid on service.deploy stops dvm deploy app with the error dvm action run prints; without it the deploy runs and is audited', {
  timeout: 120_000,
}, async () => {
  const home = tempHome();
  const appPort = await freePort();
  const appDir = join(home, 'web');
  mkdirSync(appDir);
  mkdirSync(join(home, 'policies'));
  const policy = join(home, 'policies', 'freeze.cedar');
  writeFileSync(policy, FREEZE);
  dvmOk(home, ['apply', '-f', '-'], { input: platform(appPort, appDir) });
  try {
    const action = dvm(home, [
      'action',
      'run',
      'service.deploy',
      '--param',
      'target=web',
      '--param',
      'ecosystem=pol',
      '--param',
      'domain=shop',
    ]);
    const denied = dvm(home, ['deploy', 'app', 'web', '-e', 'pol', '-d', 'shop']);
    assert.notEqual(denied.status, 0, denied.stdout);
    assert.equal(denied.status, action.status, 'the exit status of dvm action run service.deploy');
    assert.match(denied.stderr, /^error: DVM_FORBIDDEN: policy denies this request: deploys are frozen/);
    assert.equal(denied.stderr, action.stderr, 'the same error, word for word');
    assert.equal(denied.stdout, '');
    assert.equal(await answers(appPort), false, 'nothing was deployed');
    assert.equal(
      JSON.parse(dvm(home, ['status', 'app', 'web', '-e', 'pol', '-o', 'json']).stdout).state,
      undefined,
    );
    assert.deepEqual(
      auditOf(home).map((e) => [e.actor, e.decision, e.env]),
      [
        ['local', 'denied', 'dev'],
        ['local', 'denied', 'dev'],
      ],
      "dvm action run's denial and dvm deploy's: the same entry",
    );

    rmSync(policy);
    const deployed = dvmOk(home, ['deploy', 'app', 'web', '-e', 'pol', '-d', 'shop']);
    assert.match(deployed.stdout, /^app\/web deployed on process \(pid \d+\), healthy after \d+\.\ds\n$/);
    assert.match(
      deployed.stderr,
      /^web: deployed on process, healthy after \d+\.\ds\n$/,
      'its progress, as before',
    );
    assert.equal(await answers(appPort), true);
    // -o json: the deploy result, as before.
    const json = JSON.parse(
      dvmOk(home, ['deploy', 'app', 'web', '-e', 'pol', '-d', 'shop', '-o', 'json']).stdout,
    );
    assert.deepEqual([json.app, json.runtime, json.state.status], ['web', 'process', 'running']);
    assert.deepEqual(
      auditOf(home)
        .slice(2)
        .map((e) => [e.actor, e.decision, e.env]),
      [
        ['local', 'allowed', 'dev'],
        ['local', 'executed', 'dev'],
        ['local', 'allowed', 'dev'],
        ['local', 'executed', 'dev'],
      ],
    );
  } finally {
    await dvmAsync(home, ['down', '-e', 'pol']);
  }
});
