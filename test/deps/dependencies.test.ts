// Dependencies and live mode end to end through the real dvm binary, on the process runtime, with real
// PostgreSQL and Redis binaries: health-gated start, adoption, restart of one instance only, data surviving a
// restart, port conflicts, a live app with injected connection settings that restarts after a crash, and
// `dvm down` leaving no process behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processStartTime } from '../../src/runtime/process/proc.ts';
import { actionResult, DVM_BIN, dvm, dvmAsync, dvmOk, REPO_ROOT, tempHome } from '../helpers/dvm.ts';
import { freePort, queryPg, requireHostServices } from '../support/services.ts';

function platformYaml(pgPort: number, redisPort: number, appPort: number, appDir: string): string {
  return `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: demo}
spec:
  dependencies:
    - name: platform-db
      ref: postgres
      env:
        - {name: POSTGRES_USER, value: devops}
        - {name: POSTGRES_PASSWORD, value: "p@ss word"}
        - {name: POSTGRES_DB, value: shop}
      ports: [{containerPort: 5432, hostPort: ${pgPort}}]
    - name: cache
      ref: redis
      ports: [{containerPort: 6379, hostPort: ${redisPort}}]
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: web, ecosystem: demo}
---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: notes-api, ecosystem: demo, domain: web}
spec:
  path: ${appDir}
  ports: [{containerPort: ${appPort}}]
  healthCheck: {path: /health, interval: 200ms}
  dependencies:
    - ref: platform-db
    - ref: cache
  live:
    command: [node, server.mjs]
`;
}

/** A fresh home with the demo platform applied on free ports; the app is test/fixtures/live-app (inside the
 * repository, so that its `import 'pg'` resolves to the repository's node_modules). */
async function applyDemo() {
  const home = tempHome();
  const [pgPort, redisPort, appPort] = [await freePort(), await freePort(), await freePort()];
  const file = join(home, 'platform.yaml');
  writeFileSync(
    file,
    platformYaml(pgPort, redisPort, appPort, join(REPO_ROOT, 'test', 'fixtures', 'live-app')),
  );
  dvmOk(home, ['apply', '-f', file]);
  return { home, pgPort, redisPort, appPort };
}

/** GET over a fresh connection (a pooled keep-alive socket would still point at an app process that was replaced). */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const DEMO_DB = { user: 'devops', password: 'p@ss word', database: 'shop' };

function pgQuery(port: number, sql: string, params: unknown[] = []) {
  return queryPg({ port, ...DEMO_DB }, sql, params);
}

test('dependencies and live mode on the process runtime: health-gated start, adoption, restart, data, crash, down', {
  timeout: 180_000,
}, async (t) => {
  if (!(await requireHostServices(t))) return;
  const { home, pgPort, redisPort, appPort } = await applyDemo();
  try {
    const started = JSON.parse(dvmOk(home, ['start', 'dependencies', '-e', 'demo', '-o', 'json']).stdout);
    assert.deepEqual(started.map((s: { name: string }) => s.name).sort(), ['cache', 'platform-db']);
    assert.ok(
      started.every((s: { status: string; adopted: boolean }) => s.status === 'running' && !s.adopted),
    );
    // Healthy means usable: the database POSTGRES_DB exists and the password works over TCP.
    await pgQuery(pgPort, 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
    await pgQuery(pgPort, 'INSERT INTO notes (body) VALUES ($1)', ['survives restarts']);

    const statusOf = (name: string) =>
      JSON.parse(dvmOk(home, ['status', 'dependency', name, '-e', 'demo', '-o', 'json']).stdout);
    const redisBefore = statusOf('cache');
    const pgBefore = statusOf('platform-db');
    assert.equal(pgBefore.healthy, true);

    const again = JSON.parse(dvmOk(home, ['start', 'dependencies', '-e', 'demo', '-o', 'json']).stdout);
    assert.ok(
      again.every((s: { adopted: boolean }) => s.adopted),
      'a second start adopts, never duplicates',
    );
    assert.equal(statusOf('platform-db').state.pid, pgBefore.state.pid);

    // `dvm logs dependency -f` follows the output across the restart until interrupted.
    const follow = spawn(
      process.execPath,
      [DVM_BIN, 'logs', 'dependency', 'platform-db', '-e', 'demo', '-f'],
      {
        env: { ...process.env, DVM_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const followClosed = new Promise((r) => follow.once('close', r));
    let followed = '';
    follow.stdout.on('data', (d) => (followed += d));
    const readyLines = () => followed.match(/ready to accept connections/g)?.length ?? 0;
    for (let i = 0; i < 100 && readyLines() < 1; i++) await sleep(50);
    dvmOk(home, ['restart', 'dependency', 'platform-db', '-e', 'demo']);
    for (let i = 0; i < 100 && readyLines() < 2; i++) await sleep(50);
    follow.kill('SIGINT');
    const followExit = await followClosed;
    assert.equal(readyLines(), 2, 'the follow saw the first start and the restart');
    assert.equal(followExit, 0);
    const pgAfter = statusOf('platform-db');
    assert.notEqual(pgAfter.state.pid, pgBefore.state.pid, 'postgres was restarted');
    assert.equal(statusOf('cache').state.pid, redisBefore.state.pid, 'restarting postgres left redis alone');
    assert.deepEqual(await pgQuery(pgPort, 'SELECT body FROM notes'), [{ body: 'survives restarts' }]);

    const table = dvmOk(home, ['get', 'dependencies', '-e', 'demo']).stdout;
    assert.match(table, /platform-db\s+Ecosystem\/demo\s+postgres \(built in\)\s+process\s+Healthy/);
    assert.match(
      dvmOk(home, ['logs', 'dependency', 'platform-db', '-e', 'demo']).stdout,
      /ready to accept connections/,
    );

    // Live mode: the app gets DATABASE_URL (with the password URL-encoded) and CACHE_URL, and counts as
    // deployed once /health answers.
    const deployed = dvmOk(home, ['deploy', 'app', 'notes-api', '-e', 'demo', '-o', 'json']);
    const result = JSON.parse(deployed.stdout);
    assert.equal(result.state.status, 'running');
    assert.match(
      dvmOk(home, ['logs', 'service', 'notes-api', '-e', 'demo']).stdout,
      new RegExp(`notes-api listening on ${appPort}`),
    );
    const notes = JSON.parse((await get(`http://127.0.0.1:${appPort}/notes`)).body);
    assert.deepEqual(notes, { notes: ['survives restarts'], redis: `redis://127.0.0.1:${redisPort}` });

    // A crash: the restart policy brings it back.
    process.kill(result.state.pid, 'SIGKILL');
    let status: { state?: { status: string; restarts: number; pid: number } } = {};
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      status = JSON.parse(dvm(home, ['status', 'app', 'notes-api', '-e', 'demo', '-o', 'json']).stdout);
      if (status.state?.status === 'running' && status.state.restarts >= 1) break;
    }
    assert.equal(status.state?.status, 'running');
    assert.ok((status.state?.restarts ?? 0) >= 1);
    for (
      let i = 0;
      i < 50 &&
      !(await fetch(`http://127.0.0.1:${appPort}/health`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    )
      await sleep(100);
    assert.equal((await get(`http://127.0.0.1:${appPort}/health`)).status, 200);

    // Everything of ours, by pid, before `down`: services and their supervisors.
    const pids: [number, string | undefined][] = [];
    for (const id of ['demo-platform-db', 'demo-cache', 'app-demo-web-notes-api']) {
      const state = JSON.parse(readFileSync(join(home, 'instances', id, 'state.json'), 'utf8'));
      pids.push(
        [state.pid, processStartTime(state.pid)],
        [state.supervisorPid, processStartTime(state.supervisorPid)],
      );
    }
    assert.ok(pids.every(([pid, start]) => isAlive(pid, start)));
    const downResult = JSON.parse(dvmOk(home, ['down', '-e', 'demo', '-o', 'json']).stdout);
    assert.deepEqual(downResult.apps, ['notes-api']);
    assert.deepEqual(downResult.dependencies.sort(), ['cache', 'platform-db']);
    assert.deepEqual(downResult.leftovers, []);
    // A zombie (exited, not yet reaped by init) counts as gone.
    assert.deepEqual(
      pids.filter(([pid, start]) => isAlive(pid, start)),
      [],
      'no process of ours is left after dvm down',
    );
  } finally {
    await dvmAsync(home, ['down', '-e', 'demo']);
  }
});

test('a host port already in use is DVM_PORT_IN_USE naming the process that holds it', async (t) => {
  if (!(await requireHostServices(t))) return;
  const home = tempHome();
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const { port } = holder.address() as { port: number };
  try {
    const file = join(home, 'p.yaml');
    writeFileSync(
      file,
      `apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: busy}\nspec:\n  dependencies:\n    - {name: cache, ref: redis, ports: [{containerPort: 6379, hostPort: ${port}}]}\n`,
    );
    dvmOk(home, ['apply', '-f', file]);
    const run = dvm(home, ['start', 'dependency', 'cache', '-e', 'busy']);
    assert.equal(run.status, 1);
    assert.match(run.stderr, new RegExp(`DVM_PORT_IN_USE.*port ${port}.*pid ${process.pid}`));
    assert.match(run.stderr, /hostPort/);
  } finally {
    holder.close();
  }
});

test('service.* and chaos.* actions through dvm action run: kill and recover, latency proxy on and off, restart', {
  timeout: 180_000,
}, async (t) => {
  if (!(await requireHostServices(t))) return;
  const { home, pgPort, appPort } = await applyDemo();
  const action = (name: string, ...params: string[]) => actionResult(home, name, params);
  const appEnv = async () => JSON.parse((await get(`http://127.0.0.1:${appPort}/env`)).body);
  try {
    const idle = dvm(home, [
      'action',
      'run',
      'chaos.kill',
      '--param',
      'target=dependency/cache',
      '--param',
      'ecosystem=demo',
    ]);
    assert.equal(idle.status, 1);
    assert.match(idle.stderr, /DVM_TARGET_NOT_FOUND: nothing to kill: dependency\/cache is not started/);

    // service.deploy starts the dependencies it needs first.
    const deployed = action('service.deploy', 'target=notes-api', 'ecosystem=demo');
    assert.equal(deployed.state.status, 'running');
    await pgQuery(pgPort, 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');

    const killed = action('chaos.kill', 'target=app/notes-api', 'ecosystem=demo');
    assert.equal(killed.killed, 'app/notes-api');
    assert.notEqual(killed.newPid, killed.killedPid);
    assert.ok(killed.recoveredInMs > 0 && killed.recoveredInMs < 60_000, String(killed.recoveredInMs));
    assert.equal((await appEnv()).pid, killed.newPid, 'the app that answers is the restarted one');

    const killedDep = action('chaos.kill', 'target=dependency/cache', 'ecosystem=demo');
    assert.equal(killedDep.killed, 'dependency/cache');
    assert.ok(killedDep.restarts >= 1);

    const on = action(
      'chaos.latency',
      'target=platform-db',
      'ecosystem=demo',
      'latency=150ms',
      'jitter=10ms',
    );
    assert.equal(on.state, 'on');
    assert.deepEqual(on.apps, ['notes-api']);
    assert.equal(Number((await appEnv()).dbPort), on.proxyPort, 'the app now connects through the proxy');
    const began = Date.now();
    assert.equal((await get(`http://127.0.0.1:${appPort}/notes`)).status, 200);
    assert.ok(Date.now() - began >= 280, `a query through the proxy took ${Date.now() - began} ms`);

    const off = action('chaos.latency', 'target=platform-db', 'ecosystem=demo', 'off=true');
    assert.equal(off.state, 'off');
    assert.equal(Number((await appEnv()).dbPort), pgPort, 'direct settings are back');
    assert.ok(
      !readdirSync(join(home, 'instances')).includes('chaos-latency-demo-platform-db'),
      'the proxy is gone',
    );

    // A forbid on what chaos.kill acts on holds for a bare name and for a random pick: both are decided on the
    // instance they name (app/NAME or dependency/NAME), picked before the decision.
    mkdirSync(join(home, 'policies'), { recursive: true });
    const frozen = join(home, 'policies', 'frozen.cedar');
    writeFileSync(
      frozen,
      `@id("frozen") @reason("nothing here may be killed")
forbid (principal, action, resource)
when { context.action == "chaos.kill" && context.params.hasTag("target") && ["app/notes-api", "dependency/cache", "dependency/platform-db"].contains(context.params.getTag("target")) };
`,
    );
    for (const params of [['target=cache'], []]) {
      const refused = dvm(home, [
        'action',
        'run',
        'chaos.kill',
        '--param',
        'ecosystem=demo',
        ...params.flatMap((p) => ['--param', p]),
      ]);
      assert.equal(refused.status, 1, refused.stdout);
      assert.match(refused.stderr, /DVM_FORBIDDEN: policy denies this request: nothing here may be killed/);
    }
    // A target nothing is named is the caller's mistake, not a connector failure, while policies read params too.
    const ghost = dvm(home, [
      'action',
      'run',
      'chaos.kill',
      '--param',
      'ecosystem=demo',
      '--param',
      'target=app/ghost',
    ]);
    assert.equal(ghost.status, 1);
    assert.match(ghost.stderr, /DVM_TARGET_NOT_FOUND/);
    rmSync(frozen);

    const before = (await appEnv()).pid;
    const restarted = action('service.restart', 'target=notes-api', 'ecosystem=demo');
    assert.equal(restarted.restarted, true);
    assert.notEqual((await appEnv()).pid, before);
  } finally {
    await dvmAsync(home, ['down', '-e', 'demo']);
  }
});

test('two dvm processes starting the same instance at once start it once', { timeout: 60_000 }, async (t) => {
  if (!(await requireHostServices(t))) return;
  const home = tempHome();
  const port = await freePort();
  const file = join(home, 'p.yaml');
  writeFileSync(
    file,
    `apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: race}\nspec:\n  dependencies:\n    - {name: cache, ref: redis, ports: [{containerPort: 6379, hostPort: ${port}}]}\n`,
  );
  dvmOk(home, ['apply', '-f', file]);
  try {
    const runs = await Promise.all(
      [1, 2, 3].map(() => dvmAsync(home, ['start', 'dependency', 'cache', '-e', 'race', '-o', 'json'])),
    );
    for (const run of runs) assert.equal(run.status, 0, run.stderr);
    const results = runs.map((r) => JSON.parse(r.stdout)[0]);
    assert.equal(results.filter((r) => !r.adopted).length, 1, 'one started it, the others adopted it');
    assert.equal(new Set(results.map((r) => r.startToHealthyMs >= 0 && JSON.stringify(r.ports))).size, 1);
    const state = JSON.parse(readFileSync(join(home, 'instances', 'race-cache', 'state.json'), 'utf8'));
    assert.equal(state.restarts, 0, 'no second redis-server crashed on the taken port');

    // The instance leaves the store while it runs: `dvm down -A` still finds and removes it.
    dvmOk(home, ['apply', '-f', '-'], {
      input:
        'apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: race}\nspec: {dependencies: []}\n',
    });
    const pid = state.pid;
    const started = processStartTime(pid);
    const down = JSON.parse(dvmOk(home, ['down', '-A', '-o', 'json']).stdout);
    assert.deepEqual(down.removed, ['process:race-cache']);
    assert.equal(isAlive(pid, started), false);
  } finally {
    await dvmAsync(home, ['down', '-e', 'race']);
  }
});
