// `dvm serve`'s Volume backup schedule runs the data.backup action through the agent's one path, as the principal
// serve's Jobs run as (local, env pipeline): a forbid on data.backup in DVM_HOME/policies stops every firing (no
// backup file; each denial on serve's log with its code, and the schedule goes on), and once the forbid is gone the
// next firing backs up, audited as `dvm action run data.backup` is. Real dvm serve, Redis started by dvm on the
// process runtime.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServe } from '../helpers/agent-server.ts';
import { DVM_BIN, dvmAsync, dvmOk, REPO_ROOT, tempHome } from '../helpers/dvm.ts';
import { freePort, requireHostServices } from '../support/services.ts';

const FREEZE = `@id("no-backups")
@reason("backups are frozen")
forbid (principal, action, resource)
when { context.action == "data.backup" };
`;

type Entry = { actor: string; action: string; decision: string; env: string };

// An ecosystem whose redis `cache` (on `port` when given) has its volume backed up on `schedule`, kept 7 days.
function backedUpCache(schedule: string, port?: number): string {
  const ports = port === undefined ? '' : `, ports: [{containerPort: 6379, hostPort: ${port}}]`;
  return `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: bkp}
spec:
  dependencies:
    - {name: cache, ref: redis${ports}}
---
apiVersion: devopsmaestro.io/v1
kind: Volume
metadata: {name: cache-data, ecosystem: bkp}
spec:
  backup: {enabled: true, schedule: "${schedule}", retention: 7d}
`;
}

test('a forbid on data.backup stops the backups dvm serve schedules (logged, the schedule goes on); without it they run, audited', {
  timeout: 120_000,
}, async (t) => {
  if (!(await requireHostServices(t))) return;
  const home = tempHome();
  const redisPort = await freePort();
  mkdirSync(join(home, 'policies'));
  const policy = join(home, 'policies', 'freeze.cedar');
  writeFileSync(policy, FREEZE);
  dvmOk(home, ['apply', '-f', '-'], { input: backedUpCache('*/1 * * * * *', redisPort) });
  const dir = join(home, 'backups', 'bkp-cache');
  const files = () => (existsSync(dir) ? readdirSync(dir) : []);
  try {
    dvmOk(home, ['start', 'dependency', 'cache', '-e', 'bkp', '--runtime', 'process']);
    const serve = spawn(process.execPath, [DVM_BIN, 'serve', '--listen', '127.0.0.1:0'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DVM_HOME: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    serve.stdout.on('data', (d) => (log += d));
    serve.stderr.on('data', (d) => (log += d));
    const count = (re: RegExp) => log.match(re)?.length ?? 0;
    const until = async (done: () => boolean) => {
      for (const deadline = Date.now() + 30_000; !done() && Date.now() < deadline; ) await sleep(100);
    };
    try {
      const deniedLine =
        /backup of cache failed: DVM_FORBIDDEN: policy denies this request: backups are frozen\n/g;
      await until(() => count(deniedLine) >= 2);
      assert.ok(count(deniedLine) >= 2, `each firing denied, and the schedule went on:\n${log}`);
      assert.deepEqual(files(), [], 'no backup file');

      // The forbid goes: the next firings back up (each firing asks the policies in force then).
      rmSync(policy);
      const doneLine = /backup of cache \(volume cache-data\): \S+\.jsonl \(\d+ bytes, 0 old pruned\)\n/g;
      await until(() => count(doneLine) >= 1);
      assert.ok(count(doneLine) >= 1, log);
    } finally {
      serve.kill('SIGTERM');
      await new Promise((r) => serve.once('close', r));
    }
    assert.ok(files().length >= 1, 'a backup file');
    const audit = (
      JSON.parse(dvmOk(home, ['audit', '--action', 'data.backup', '-o', 'json']).stdout).items as Entry[]
    ).map((e) => [e.actor, e.decision, e.env]);
    assert.deepEqual(audit.slice(0, 2), [
      ['local', 'denied', 'pipeline'],
      ['local', 'denied', 'pipeline'],
    ]);
    assert.ok(
      audit.some(([, d]) => d === 'executed'),
      `the backups that ran are audited: ${JSON.stringify(audit)}`,
    );
    const firstRun = audit.findIndex(([, d]) => d === 'allowed');
    assert.deepEqual(audit.slice(firstRun, firstRun + 2), [
      ['local', 'allowed', 'pipeline'],
      ['local', 'executed', 'pipeline'],
    ]);
    assert.equal(
      audit.filter(([, d]) => d === 'executed').length,
      files().length,
      'one executed entry per backup file (7d retention pruned none)',
    );
  } finally {
    await dvmAsync(home, ['down', '-e', 'bkp']);
  }
});

test('dvm serve warns when its scheduled backups act in an environment its agent is not bound to (every firing would be denied)', async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: backedUpCache('0 3 * * *') });
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  environments: [prod]\n');
  const serve = await startServe(home);
  try {
    for (let i = 0; i < 50 && !/serve started/.test(serve.output()); i++) await sleep(100);
    assert.match(
      serve.output(),
      /warning: volume backups, .* act in environment pipeline, which agent\.environments \(prod\) in \S+ does not list/,
    );
  } finally {
    await serve.stop();
  }
});
