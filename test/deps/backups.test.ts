// data.backup / data.restore through dvm action run on real PostgreSQL and Redis instances started by dvm, and
// the Volume backup schedule (with retention) that `dvm serve` keeps.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { actionResult, DVM_BIN, dvmAsync, dvmOk, REPO_ROOT, tempHome } from '../helpers/dvm.ts';
import { freePort, queryPg, requireHostServices } from '../support/services.ts';

function yaml(pgPort: number, redisPort: number, schedule: string): string {
  return `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: bk}
spec:
  dependencies:
    - name: main-db
      ref: postgres
      env: [{name: POSTGRES_USER, value: app}, {name: POSTGRES_PASSWORD, value: pw}, {name: POSTGRES_DB, value: app}]
      ports: [{containerPort: 5432, hostPort: ${pgPort}}]
    - name: sessions
      ref: redis
      ports: [{containerPort: 6379, hostPort: ${redisPort}}]
---
apiVersion: devopsmaestro.io/v1
kind: Volume
metadata: {name: main-db-data, ecosystem: bk}
spec:
  backup: {enabled: true, schedule: "${schedule}", retention: 2s}
`;
}

function pg(port: number, sql: string) {
  return queryPg({ port, user: 'app', password: 'pw', database: 'app' }, sql);
}

test('data.backup and data.restore bring back PostgreSQL rows and Redis keys; serve backs volumes up on schedule and prunes by retention', {
  timeout: 180_000,
}, async (t) => {
  if (!(await requireHostServices(t))) return;
  const home = tempHome();
  const [pgPort, redisPort] = [await freePort(), await freePort()];
  const file = join(home, 'p.yaml');
  writeFileSync(file, yaml(pgPort, redisPort, '*/1 * * * * *'));
  dvmOk(home, ['apply', '-f', file]);
  const action = (name: string, ...params: string[]) => actionResult(home, name, params);
  try {
    dvmOk(home, ['start', 'dependencies', '-e', 'bk']);
    await pg(
      pgPort,
      "CREATE TABLE accounts (id int PRIMARY KEY, name text); INSERT INTO accounts VALUES (1, 'ada')",
    );
    const { createClient } = await import('redis');
    const redis = createClient({ url: `redis://127.0.0.1:${redisPort}` });
    await redis.connect();
    await redis.set('session:1', 'alive');

    const pgBackup = action('data.backup', 'target=main-db', 'ecosystem=bk');
    assert.ok(existsSync(pgBackup.file) && pgBackup.bytes > 0);
    assert.match(pgBackup.file, /backups\/bk-main-db\/.*\.pgdump$/);
    const redisBackup = action('data.backup', 'target=sessions', 'ecosystem=bk');
    assert.match(redisBackup.file, /\.jsonl$/);

    await pg(pgPort, 'DROP TABLE accounts');
    await redis.flushDb();
    action('data.restore', 'target=main-db', 'ecosystem=bk');
    assert.deepEqual(await pg(pgPort, 'SELECT id, name FROM accounts'), [{ id: 1, name: 'ada' }]);
    const restored = action('data.restore', 'target=sessions', 'ecosystem=bk');
    assert.equal(restored.restored, 1);
    assert.equal(await redis.get('session:1'), 'alive');
    await redis.quit();

    // The schedule: every second, retention 2s.
    const serve = spawn(process.execPath, [DVM_BIN, 'serve', '--no-api'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DVM_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    serve.stdout.on('data', (d) => (log += d));
    serve.stderr.on('data', (d) => (log += d));
    try {
      const dir = join(home, 'backups', 'bk-main-db');
      const deadline = Date.now() + 30_000;
      while ((log.match(/backup of main-db/g)?.length ?? 0) < 5 && Date.now() < deadline) await sleep(200);
      assert.match(log, /1 volume backup schedule/);
      assert.ok((log.match(/backup of main-db \(volume main-db-data\)/g)?.length ?? 0) >= 5, log);
      assert.match(log, /[1-9]\d* old pruned/, 'retention pruned old backups');
      const ages = readdirSync(dir).map((f) => Date.now() - statSync(join(dir, f)).mtimeMs);
      assert.ok(
        ages.every((age) => age < 4_500),
        `no backup older than retention (+ one period): ${ages}`,
      );
    } finally {
      serve.kill('SIGTERM');
      await new Promise((r) => serve.once('close', r));
    }
  } finally {
    await dvmAsync(home, ['down', '-e', 'bk']);
  }
});
