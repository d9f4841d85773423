import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunRecord } from '../runs.ts';
import { MIGRATIONS } from './migrations.ts';
import { openSqliteStore } from './sqlite-store.ts';

function record(id: string, status: RunRecord['status']): RunRecord {
  return {
    id,
    rootId: id,
    level: 'task',
    kind: 'Task',
    name: 't',
    node: 't',
    status,
    attempts: 0,
    results: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    seq: 0,
  } as RunRecord;
}

test('run records written while a run goes reach the file, and the connection goes back to synchronous=FULL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-runs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dvm.db');
  const store = openSqliteStore(path);
  const runs = store.runStore();
  runs.save(record('r1', 'Running'));
  await sleep(100); // the periodic write (not a flush)
  const other = new DatabaseSync(path, { readOnly: true });
  t.after(() => other.close());
  const seen = () =>
    (other.prepare("SELECT status FROM runs WHERE id = 'r1'").get() as { status: string } | undefined)
      ?.status;
  assert.equal(seen(), 'Running', 'another connection sees the periodic write');
  // The same connection's other writes (apply) stay durable per commit.
  const synchronous = (store as unknown as { db: DatabaseSync }).db.prepare('PRAGMA synchronous').get() as {
    synchronous: number;
  };
  assert.equal(synchronous.synchronous, 2, 'FULL');
  runs.save(record('r1', 'Succeeded'));
  runs.flush();
  assert.equal(seen(), 'Succeeded', 'an explicit flush writes at once');
  await store.close();
});

test('migration 3 moves the process group of task records out of pid (the owner dvm of root records stays)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-runs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dvm.db');
  // A store as schema 2 left it: a workflow root owned by dvm 100, its task in process group 200.
  const old = new DatabaseSync(path);
  for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) old.exec(migration.sql);
  old.exec(`PRAGMA user_version = 2;
    INSERT INTO runs (id, root_id, level, kind, name, status, created_at, pid, seq)
      VALUES ('w', 'w', 'workflow', 'Workflow', 'w', 'Running', '2026-01-01', 100, 0);
    INSERT INTO runs (id, root_id, parent_id, level, kind, name, status, created_at, pid, seq)
      VALUES ('w.1', 'w', 'w', 'task', 'Task', 't', 'Running', '2026-01-01', 200, 1);`);
  old.close();
  const store = openSqliteStore(path);
  t.after(() => store.close());
  const runs = store.runStore();
  const [root, task] = runs.tree('w');
  assert.deepEqual([root.pid, root.pgid], [100, undefined]);
  assert.deepEqual([task.pid, task.pgid], [undefined, 200]);
});
