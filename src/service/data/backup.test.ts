import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  postgresAnswers,
  redisAnswers,
  requireService,
  TEST_PG,
  TEST_REDIS,
} from '../../../test/support/require-service.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import { findExecutable } from '../../runtime/process/process-runtime.ts';
import { backupTarget, restoreTarget } from './backup.ts';
import type { PostgresTarget, RedisTarget } from './connection.ts';

const PG_START = 'bash scripts/services/postgres.sh';
const REDIS_START = 'bash scripts/services/redis.sh';

async function scratchDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dvm-backup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function pgQuery<T = Record<string, unknown>>(
  database: string,
  sql: string,
  values?: unknown[],
): Promise<T[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ ...TEST_PG, database });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

function pgTarget(database: string, extra: Partial<PostgresTarget> = {}): PostgresTarget {
  return {
    engine: 'postgres',
    ...TEST_PG,
    database,
    adminDatabase: 'postgres',
    label: 'test-db (postgres)',
    ...extra,
  };
}

function redisTarget(database: number, extra: Partial<RedisTarget> = {}): RedisTarget {
  return { engine: 'redis', ...TEST_REDIS, database, label: 'test-cache (redis)', ...extra };
}

function isCoded(code: string, check?: (error: DvmError) => void) {
  return (error: unknown) => {
    assert.ok(error instanceof DvmError, `expected a DvmError, got ${error}`);
    assert.equal(error.code, code, error.message);
    check?.(error);
    return true;
  };
}

test('postgres: a backup restores rows that were deleted and a table that was dropped', async (t) => {
  if (!(await requireService(t, 'PostgreSQL', postgresAnswers, PG_START))) return;
  const database = `dvm_backup_${randomBytes(6).toString('hex')}`;
  await pgQuery('postgres', `CREATE DATABASE ${database}`);
  t.after(() => pgQuery('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  await pgQuery(database, 'CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL)');
  await pgQuery(database, "INSERT INTO users SELECT g, 'user-' || g FROM generate_series(1, 50) g");
  await pgQuery(database, 'CREATE TABLE notes (id int PRIMARY KEY, body text)');
  await pgQuery(database, "INSERT INTO notes VALUES (1, 'keep me')");

  const dir = await scratchDir(t);
  const file = join(dir, 'nested', 'deeper', 'db.dump');
  const target = pgTarget(database);
  const backup = await backupTarget(target, file);
  assert.equal(backup.file, file);
  assert.equal(backup.engine, 'postgres');
  assert.ok(backup.bytes > 0);
  assert.ok(backup.durationMs >= 0);
  const info = await stat(file);
  assert.equal(info.size, backup.bytes);
  assert.equal(info.mode & 0o777, 0o600);
  assert.equal((await readFile(file)).subarray(0, 5).toString(), 'PGDMP'); // custom format

  await pgQuery(database, 'DELETE FROM users WHERE id > 10');
  await pgQuery(database, "UPDATE users SET name = 'changed' WHERE id = 1");
  await pgQuery(database, 'DROP TABLE notes');

  const restore = await restoreTarget(target, file);
  assert.equal(restore.restored, undefined);
  assert.ok(restore.durationMs >= 0);
  const [{ count }] = await pgQuery<{ count: string }>(database, 'SELECT count(*) FROM users');
  assert.equal(Number(count), 50);
  const [first] = await pgQuery<{ name: string }>(database, 'SELECT name FROM users WHERE id = 1');
  assert.equal(first.name, 'user-1');
  const notes = await pgQuery<{ body: string }>(database, 'SELECT body FROM notes');
  assert.deepEqual(
    notes.map((n) => n.body),
    ['keep me'],
  );
});

test('postgres: restore with clean: false adds to what is there', async (t) => {
  if (!(await requireService(t, 'PostgreSQL', postgresAnswers, PG_START))) return;
  const database = `dvm_backup_${randomBytes(6).toString('hex')}`;
  await pgQuery('postgres', `CREATE DATABASE ${database}`);
  t.after(() => pgQuery('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  await pgQuery(database, 'CREATE TABLE items (id int PRIMARY KEY)');
  await pgQuery(database, 'INSERT INTO items VALUES (1), (2)');
  const file = join(await scratchDir(t), 'items.dump');
  const target = pgTarget(database);
  await backupTarget(target, file);
  await pgQuery(database, 'DROP TABLE items');
  await restoreTarget(target, file, { clean: false });
  const rows = await pgQuery<{ id: number }>(database, 'SELECT id FROM items ORDER BY id');
  assert.deepEqual(
    rows.map((r) => r.id),
    [1, 2],
  );
  // Without --clean the table exists already: the restore fails (one transaction) and says why.
  await assert.rejects(
    restoreTarget(target, file, { clean: false }),
    isCoded('DVM_BACKUP_FAILED', (e) => assert.match(e.message, /pg_restore/)),
  );
});

test('postgres: a wrong port fails with DVM_BACKUP_FAILED and the message never shows the password', async (t) => {
  const password = `s3cret-${randomBytes(8).toString('hex')}`;
  const dir = await scratchDir(t);
  const file = join(dir, 'x.dump');
  const target = pgTarget('postgres', { port: 1, password });
  await assert.rejects(
    backupTarget(target, file),
    isCoded('DVM_BACKUP_FAILED', (e) => {
      assert.match(e.message, /pg_dump/);
      assert.match(e.message, /127\.0\.0\.1|refused|connect/i);
      assert.ok(!e.message.includes(password));
      assert.ok(!JSON.stringify(e.toJSON()).includes(password));
    }),
  );
  await assert.rejects(stat(file), /ENOENT/); // no partial file is left
  await writeFile(file, 'not a dump');
  await assert.rejects(
    restoreTarget(target, file),
    isCoded('DVM_BACKUP_FAILED', (e) => assert.ok(!e.message.includes(password))),
  );
});

test('postgres: no pg_dump anywhere is DVM_BINARY_NOT_FOUND naming postgresql-client', async (t) => {
  const dir = await scratchDir(t);
  const path = process.env.PATH;
  process.env.PATH = dir;
  t.after(() => {
    process.env.PATH = path;
  });
  await assert.rejects(
    backupTarget(pgTarget('postgres'), join(dir, 'x.dump'), { binPaths: [join(dir, 'missing', '*', 'bin')] }),
    isCoded('DVM_BINARY_NOT_FOUND', (e) => {
      assert.match(e.message, /pg_dump/);
      assert.match(e.fix ?? '', /postgresql-client/);
    }),
  );
});

test('a backup path whose directory cannot be created fails with a coded error', async (t) => {
  const dir = await scratchDir(t);
  const blocker = join(dir, 'a-file');
  await writeFile(blocker, 'x');
  for (const target of [pgTarget('postgres'), redisTarget(0)]) {
    await assert.rejects(
      backupTarget(target, join(blocker, 'sub', 'backup.dump')),
      isCoded('DVM_BACKUP_FAILED', (e) => assert.match(e.message, /cannot create/)),
    );
  }
});

test('restoring a file that does not exist fails with DVM_BACKUP_FAILED', async (t) => {
  const dir = await scratchDir(t);
  for (const target of [pgTarget('postgres'), redisTarget(0)]) {
    await assert.rejects(
      restoreTarget(target, join(dir, 'missing.jsonl')),
      isCoded('DVM_BACKUP_FAILED', (e) => assert.match(e.message, /missing\.jsonl/)),
    );
  }
});

// A client on a random Redis database (1–15), flushed and closed when the test ends; undefined when Redis is not
// running here (requireService skips the test, or fails it in CI).
async function scratchRedis(t: TestContext) {
  if (!(await requireService(t, 'Redis', redisAnswers, REDIS_START))) return undefined;
  const database = randomInt(1, 16);
  const { createClient } = await import('redis');
  const client = createClient({ socket: { ...TEST_REDIS, reconnectStrategy: false }, database });
  client.on('error', () => {});
  await client.connect();
  t.after(async () => {
    await client.flushDb().catch(() => {});
    await client.quit().catch(() => {});
  });
  return { database, client };
}

test('redis: a backup restores strings, hashes, lists and TTLs after FLUSHDB', async (t) => {
  const scratch = await scratchRedis(t);
  if (!scratch) return;
  const { database, client } = scratch;
  await client.flushDb();
  await client.set('plain', 'value');
  await client.set('expiring', 'soon', { PX: 600_000 });
  await client.hSet('user:1', { name: 'Ada', role: 'admin' });
  await client.pExpire('user:1', 900_000);
  await client.rPush('queue', ['a', 'b', 'c']);
  await client.set('binary', Buffer.from([0, 255, 1, 254]));
  await client.set('ünïcode:key', 'ok');
  for (let i = 0; i < 1500; i++) await client.set(`bulk:${i}`, String(i)); // more than one SCAN batch

  const file = join(await scratchDir(t), 'redis', 'cache.jsonl');
  const target = redisTarget(database);
  const backup = await backupTarget(target, file);
  assert.equal(backup.engine, 'redis');
  assert.equal(backup.file, file);
  const info = await stat(file);
  assert.equal(info.mode & 0o777, 0o600);
  assert.equal(info.size, backup.bytes);
  const lines = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { key: string; ttl: number; dump: string });
  assert.equal(lines.length, 1506);
  const byKey = new Map(lines.map((l) => [l.key, l]));
  assert.equal(byKey.get('plain')?.ttl, -1);
  assert.ok((byKey.get('expiring')?.ttl ?? 0) > 0);
  assert.ok(Buffer.from(byKey.get('plain')?.dump ?? '', 'base64').length > 0);

  await client.flushDb();
  await client.set('stray', 'gone after a clean restore');
  const restore = await restoreTarget(target, file);
  assert.equal(restore.restored, 1506);
  assert.equal(await client.dbSize(), 1506);
  assert.equal(await client.get('stray'), null);
  assert.equal(await client.get('plain'), 'value');
  assert.equal(await client.ttl('plain'), -1);
  assert.equal(await client.get('expiring'), 'soon');
  const ttl = await client.pTTL('expiring');
  assert.ok(ttl > 0 && ttl <= 600_000, `ttl ${ttl}`);
  assert.deepEqual({ ...(await client.hGetAll('user:1')) }, { name: 'Ada', role: 'admin' });
  assert.ok((await client.pTTL('user:1')) > 0);
  assert.deepEqual(await client.lRange('queue', 0, -1), ['a', 'b', 'c']);
  assert.equal(await client.get('ünïcode:key'), 'ok');
  assert.equal(await client.get('bulk:1499'), '1499');
  const { RESP_TYPES } = await import('redis');
  const raw = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  assert.deepEqual(await raw.get('binary'), Buffer.from([0, 255, 1, 254]));

  // clean: false keeps keys that are not in the backup and replaces those that are.
  await client.set('plain', 'overwritten');
  await client.set('extra', 'stays');
  assert.equal((await restoreTarget(target, file, { clean: false })).restored, 1506);
  assert.equal(await client.get('plain'), 'value');
  assert.equal(await client.get('extra'), 'stays');
});

test('redis: a broken backup file is refused before the database is flushed', async (t) => {
  const scratch = await scratchRedis(t);
  if (!scratch) return;
  const { database, client } = scratch;
  await client.flushDb();
  await client.set('survivor', 'yes');
  const file = join(await scratchDir(t), 'broken.jsonl');
  await writeFile(file, '{"key":"a","ttl":-1,"dump":"AAAA"}\nnot json\n');
  await assert.rejects(
    restoreTarget(redisTarget(database), file),
    isCoded('DVM_BACKUP_FAILED', (e) => assert.match(e.message, /:2 /)),
  );
  assert.equal(await client.get('survivor'), 'yes');
});

test('redis: a wrong port fails with DVM_BACKUP_FAILED and the message never shows the password', async (t) => {
  const password = `s3cret-${randomBytes(8).toString('hex')}`;
  const dir = await scratchDir(t);
  const file = join(dir, 'x.jsonl');
  await assert.rejects(
    backupTarget(redisTarget(0, { port: 1, password }), file),
    isCoded('DVM_BACKUP_FAILED', (e) => {
      assert.ok(!e.message.includes(password));
      assert.ok(!JSON.stringify(e.toJSON()).includes(password));
    }),
  );
  await assert.rejects(stat(file), /ENOENT/);
});

/** A private redis-server with requirepass on a free port (the shared test Redis has no password). */
async function passwordRedis(t: TestContext, password: string): Promise<number> {
  const port = await new Promise<number>((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
  const child = spawn(
    findExecutable('redis-server') ?? 'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--requirepass',
      password,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  t.after(() => {
    child.kill();
  });
  const { createClient } = await import('redis');
  for (let attempt = 0; ; attempt++) {
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, password });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.quit();
      return port;
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('redis: the password is used, and a wrong one fails with DVM_BACKUP_FAILED without showing it', async (t) => {
  if (!(await requireService(t, 'redis-server', async () => !!findExecutable('redis-server'), REDIS_START)))
    return;
  const password = `right-${randomBytes(8).toString('hex')}`;
  const port = await passwordRedis(t, password);
  const { createClient } = await import('redis');
  const client = createClient({
    socket: { host: '127.0.0.1', port, reconnectStrategy: false },
    password,
    database: 2,
  });
  client.on('error', () => {});
  await client.connect();
  t.after(() => client.quit().catch(() => {}));
  await client.set('guarded', 'yes');

  const dir = await scratchDir(t);
  const target = redisTarget(2, { port, password });
  const file = join(dir, 'guarded.jsonl');
  assert.equal((await backupTarget(target, file)).engine, 'redis');
  await client.flushDb();
  assert.equal((await restoreTarget(target, file)).restored, 1);
  assert.equal(await client.get('guarded'), 'yes');

  const wrong = `wrong-${randomBytes(8).toString('hex')}`;
  for (const attempt of [
    () => backupTarget(redisTarget(2, { port, password: wrong }), join(dir, 'x.jsonl')),
    () => restoreTarget(redisTarget(2, { port, password: wrong }), file),
  ]) {
    await assert.rejects(
      attempt(),
      isCoded('DVM_BACKUP_FAILED', (e) => {
        assert.match(e.message, /WRONGPASS|invalid/i);
        assert.ok(!e.message.includes(wrong));
        assert.ok(!JSON.stringify(e.toJSON()).includes(wrong));
      }),
    );
  }
  assert.equal(await client.get('guarded'), 'yes');
});
