import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { isDvmError } from '../../errors/dvm-error.ts';
import type { StoredObject } from '../store.ts';
import { LATEST_SCHEMA_VERSION } from './migrations.ts';
import { openSqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'dvm-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function object(name: string, uid = `uid-${name}`): StoredObject {
  const meta = { name, ecosystem: 'eco' };
  return {
    uid,
    kind: 'Domain',
    name,
    placement: { ecosystem: 'eco' },
    applied: { apiVersion: 'devopsmaestro.io/v1', kind: 'Domain', metadata: { ...meta } },
    effective: { apiVersion: 'devopsmaestro.io/v1', kind: 'Domain', metadata: { ...meta } },
    provenance: {},
    generation: 1,
    resourceVersion: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

test('a new store is migrated to the latest schema version and uses WAL', async () => {
  const path = join(dir, 'new.db');
  const store = openSqliteStore(path);
  await store.close();
  const db = new DatabaseSync(path);
  assert.equal(
    (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version,
    LATEST_SCHEMA_VERSION,
  );
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  db.close();
});

test('a store written by a newer dvm is refused and left byte-for-byte untouched', async () => {
  const path = join(dir, 'newer.db');
  await openSqliteStore(path).close();
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = DELETE');
  db.exec(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION + 1}`);
  db.close();
  const before = readFileSync(path);
  assert.throws(
    () => openSqliteStore(path),
    (e) => isDvmError(e) && e.code === 'DVM_STORE_TOO_NEW' && /Upgrade dvm/.test(e.fix ?? ''),
  );
  assert.deepEqual(readFileSync(path), before);
});

test('opening waits for a lock another process holds briefly instead of failing as unreadable', async () => {
  const path = join(dir, 'locked.db');
  await openSqliteStore(path).close();
  // Another process holds the database exclusively for a moment (as a closing connection's checkpoint does).
  const holder = spawn(
    process.execPath,
    [
      '-e',
      `const { DatabaseSync } = require('node:sqlite');
       const db = new DatabaseSync(process.argv[1]);
       db.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE meta SET value = value');
       console.log('locked');
       setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);`,
      path,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve) => holder.stdout.once('data', resolve));
  const store = openSqliteStore(path);
  await store.close();
  await new Promise((resolve) => (holder.exitCode !== null ? resolve(0) : holder.once('exit', resolve)));
});

test('a file that is not a database is a coded error', async () => {
  const path = join(dir, 'garbage.db');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, 'this is not sqlite'.repeat(100));
  assert.throws(
    () => openSqliteStore(path),
    (e) => isDvmError(e) && e.code === 'DVM_STORE_CORRUPT',
  );
});

test('write assigns increasing resource versions and rejects stale expectations atomically', async () => {
  const store = openSqliteStore(join(dir, 'rv.db'));
  const a = object('a');
  const b = object('b');
  await store.write({
    puts: [
      { object: a, expectedResourceVersion: 0, refs: [] },
      {
        object: b,
        expectedResourceVersion: 0,
        refs: [{ toKey: 'Ecosystem////eco', path: 'metadata.ecosystem' }],
      },
    ],
    deletes: [],
  });
  assert.equal(a.resourceVersion, 1);
  assert.equal(b.resourceVersion, 2);
  const fingerprint = await store.fingerprint();
  // c is new, but a's expected version is stale: nothing of the batch may be written.
  const staleA = { ...object('a'), generation: 2 };
  await assert.rejects(
    store.write({
      puts: [
        { object: object('c'), expectedResourceVersion: 0, refs: [] },
        { object: staleA, expectedResourceVersion: 0, refs: [] },
      ],
      deletes: [],
    }),
    (e) => isDvmError(e) && e.code === 'DVM_CONFLICT',
  );
  assert.equal(await store.fingerprint(), fingerprint);
  assert.equal((await store.list({})).length, 2);
  assert.deepEqual(
    (await store.referrers(['Ecosystem////eco'])).map((r) => r.name),
    ['b'],
  );
  await store.write({ puts: [], deletes: [{ uid: b.uid, expectedResourceVersion: 2 }] });
  assert.deepEqual(await store.referrers(['Ecosystem////eco']), []);
  assert.equal((await store.get('Domain', { ecosystem: 'eco' }, 'a'))?.applied.metadata.resourceVersion, '1');
  await store.close();
});
