import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { openAgentDb } from './agent-db.ts';
import { GroupCommitter } from './group-commit.ts';

test('concurrent writes share one transaction, and a failing write fails alone', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const insert = (id: string) =>
    writer.write((d) =>
      d
        .prepare("INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, 'viewer', 'h', 'now')")
        .run(id, id),
    );
  const writes = Array.from({ length: 500 }, (_, i) => insert(`t${i}`));
  const duplicate = insert('t1'); // same primary key: fails
  const results = await Promise.allSettled([...writes, duplicate]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 500);
  assert.equal(results.at(-1)?.status, 'rejected');
  assert.equal(writer.commits, 1, 'one commit for the whole burst');
  assert.equal(writer.retries, 1, 'the failing write made the batch run again with savepoints');
  assert.equal((db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n, 500);
  await insert('later');
  assert.equal(writer.commits, 2);
  assert.equal(writer.retries, 1, 'a batch without a failing write runs once');
});

test('a batch run again after a failure sees a new transaction number and no effects of the rolled-back run', async () => {
  const db = openAgentDb(':memory:');
  const writer = new GroupCommitter(db);
  const seen: number[] = [];
  const counted = writer.write((d) => {
    seen.push(writer.transaction);
    d.prepare(
      "INSERT INTO tokens (id, name, role, hash, created_at) VALUES ('a', 'a', 'viewer', 'h', 'now')",
    ).run();
    return (d.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n;
  });
  const failing = writer.write(() => {
    throw new Error('boom');
  });
  const [count, failure] = await Promise.allSettled([counted, failing]);
  assert.deepEqual(count, { status: 'fulfilled', value: 1 }, 'the row of the rolled-back run is gone');
  assert.equal(failure.status, 'rejected');
  assert.equal(seen.length, 2);
  assert.notEqual(seen[0], seen[1]);
  assert.equal((db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n, 1);
});

test('afterCommit hooks run once their transaction committed (another connection sees the write); a failing write drops its own', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-after-commit-'));
  const db = openAgentDb(join(dir, 'agent.db'));
  const other = new DatabaseSync(join(dir, 'agent.db'));
  try {
    const writer = new GroupCommitter(db);
    const seen: string[] = [];
    const visible = (id: string) =>
      other.prepare('SELECT count(*) AS n FROM tokens WHERE id = ?').get(id) as { n: number };
    const hooked = (id: string, fail = false) =>
      writer.write((d) => {
        d.prepare(
          "INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, 'viewer', 'h', 'now')",
        ).run(id, id);
        writer.afterCommit(() => seen.push(`${id}: ${visible(id).n}`));
        if (fail) throw new Error(`${id} fails`);
      });
    // The failing write makes the batch run again with savepoints: each kept hook runs once, the failed one's not.
    const results = await Promise.allSettled([hooked('a'), hooked('b', true), hooked('c')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(seen, ['a: 1', 'c: 1'], 'each hook ran once, with its write committed');
    assert.equal(visible('b').n, 0);
    assert.throws(() => writer.afterCommit(() => {}), /only for the work of a write/);
  } finally {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
