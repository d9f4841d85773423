import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunRecord } from '../runs.ts';
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
