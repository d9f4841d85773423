import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openMigratedDatabase } from '../../store/sqlite/open-database.ts';
import type { AuditRecord } from '../execute/types.ts';
import { createRedactor } from '../redact.ts';
import { openAgentDb } from '../store/agent-db.ts';
import { GroupCommitter } from '../store/group-commit.ts';
import { AGENT_MIGRATIONS } from '../store/migrations.ts';
import { AuditLog } from './audit-log.ts';

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-audit-'));
  const path = join(dir, 'agent.db');
  const db = openAgentDb(path);
  const writer = new GroupCommitter(db);
  return {
    dir,
    path,
    db,
    writer,
    log: new AuditLog(db, { writer, redactor: createRedactor() }),
    done: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const entry = (i: number, extra: Partial<AuditRecord> = {}): AuditRecord => ({
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  actor: i % 2 ? 'alice' : 'bob',
  action: 'docker.logs',
  decision: i % 3 ? 'executed' : 'denied',
  env: 'dev',
  requestId: `r${i}`,
  ...extra,
});

test('1,000 concurrent appends form one verified chain in a handful of commits', async () => {
  const { log, writer, done } = fresh();
  try {
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => log.append(entry(i))));
    assert.deepEqual(
      results.map((r) => r.seq).sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    assert.ok(writer.commits <= 5, `${writer.commits} commits`);
    const report = log.verify();
    assert.deepEqual([report.ok, report.entries, report.head?.seq], [true, 1000, 1000]);
  } finally {
    done();
  }
});

test('an edited, deleted or swapped entry breaks the chain at that entry', async () => {
  let tampers = -1;
  for (const tamper of [
    (db: ReturnType<typeof openAgentDb>) =>
      db.prepare(`UPDATE audit SET entry = replace(entry, '"r2"', '"r9"') WHERE seq = 3`).run(),
    (db: ReturnType<typeof openAgentDb>) =>
      db.prepare("UPDATE audit SET actor = 'mallory' WHERE seq = 3").run(),
    (db: ReturnType<typeof openAgentDb>) => db.prepare('DELETE FROM audit WHERE seq = 3').run(),
    (db: ReturnType<typeof openAgentDb>) => {
      const [a, b] = db
        .prepare('SELECT entry, hash, prev_hash FROM audit WHERE seq IN (3, 4) ORDER BY seq')
        .all() as { entry: string; hash: string; prev_hash: string }[];
      db.prepare('UPDATE audit SET entry = ?, hash = ?, prev_hash = ? WHERE seq = 3').run(
        b.entry,
        b.hash,
        b.prev_hash,
      );
      db.prepare('UPDATE audit SET entry = ?, hash = ?, prev_hash = ? WHERE seq = 4').run(
        a.entry,
        a.hash,
        a.prev_hash,
      );
    },
  ]) {
    tampers++;
    const { db, log, done } = fresh();
    try {
      for (let i = 0; i < 6; i++) await log.append(entry(i));
      tamper(db);
      const report = log.verify();
      assert.equal(report.ok, false);
      assert.equal(report.brokenAt, tampers === 2 ? 4 : 3, report.reason);
    } finally {
      done();
    }
  }
});

test('a changed filterable column (target, version, …) breaks the chain at that entry', async () => {
  for (const [column, value] of [
    ['target', 'env=prod'],
    ['version', '9.9.9'],
    ['env', 'prod'],
    ['action', 'system.info'],
    ['request_id', 'r99'],
    ['execution_id', 'x1'],
    ['at', '2020-01-01T00:00:00.000Z'],
    ['decision', 'allowed'],
  ]) {
    const { db, log, done } = fresh();
    try {
      for (let i = 0; i < 6; i++) await log.append(entry(i, { version: '1.0.0', target: 'env=dev' }));
      db.prepare(`UPDATE audit SET ${column} = ? WHERE seq = 4`).run(value);
      const report = log.verify();
      assert.deepEqual([report.ok, report.brokenAt], [false, 4], `${column}: ${report.reason}`);
      assert.match(report.reason ?? '', /columns differ from its hashed content/);
    } finally {
      done();
    }
  }
});

test('an entry whose text has a lone surrogate verifies (its column holds U+FFFD), and a change to that column still breaks it', async () => {
  const { db, log, done } = fresh();
  try {
    const odd = 'env=dev,container=a\ud800b';
    for (let i = 0; i < 3; i++) await log.append(entry(i, { target: odd, actor: 'bob\udc00' }));
    const stored = db.prepare('SELECT target, actor FROM audit WHERE seq = 2').get() as Record<
      string,
      string
    >;
    assert.deepEqual({ ...stored }, { target: 'env=dev,container=a\ufffdb', actor: 'bob\ufffd' });
    assert.deepEqual([log.verify().ok, log.verify().entries], [true, 3]);
    db.prepare('UPDATE audit SET target = ? WHERE seq = 2').run('env=dev,container=ab');
    const report = log.verify();
    assert.deepEqual([report.ok, report.brokenAt], [false, 2], report.reason);
  } finally {
    done();
  }
});

test('entries removed from the end are reported missing, and stay a gap after new appends', async () => {
  const cases: [string, number, RegExp][] = [
    [
      'DELETE FROM audit WHERE seq > 10',
      11,
      /20 entries are missing at the end \(the chain head is entry 30/,
    ],
    ['DELETE FROM audit WHERE seq = 30', 30, /1 entry is missing at the end/],
    ['DELETE FROM audit', 1, /30 entries are missing at the end/],
  ];
  for (const [tamper, brokenAt, reason] of cases) {
    const { db, log, done } = fresh();
    try {
      for (let i = 0; i < 30; i++) await log.append(entry(i));
      const intact = log.verify();
      assert.equal(intact.ok, true);
      db.exec(tamper);
      const report = log.verify();
      assert.deepEqual([report.ok, report.brokenAt], [false, brokenAt], `${tamper}: ${report.reason}`);
      assert.match(report.reason ?? '', reason);
      assert.deepEqual(report.head, intact.head);
      await log.append(entry(31));
      const later = log.verify();
      assert.deepEqual([later.ok, later.brokenAt], [false, 31], `${tamper}, then an append: ${later.reason}`);
      assert.match(later.reason ?? '', /expected entry \d+ here, found 31/);
    } finally {
      done();
    }
  }
});

test('a database from before the chain head gets one from its last entry when it is opened', async () => {
  const { path, db, log, done } = fresh();
  try {
    for (let i = 0; i < 5; i++) await log.append(entry(i));
    const before = log.verify().head;
    // The same entries in a database at schema version 1 (before the head), which opening then migrates.
    const old = `${path}.v1`;
    openMigratedDatabase(old, AGENT_MIGRATIONS.slice(0, 1), { label: 'a version 1 agent database' }).close();
    db.exec(
      `ATTACH DATABASE ${JSON.stringify(old)} AS v1; INSERT INTO v1.audit SELECT * FROM audit; DETACH DATABASE v1`,
    );
    const reopened = openAgentDb(old);
    try {
      const report = new AuditLog(reopened, { writer: new GroupCommitter(reopened) }).verify();
      assert.deepEqual([report.ok, report.entries, report.head], [true, 5, before]);
    } finally {
      reopened.close();
    }
  } finally {
    done();
  }
});

test('two processes appending to one database still form one chain', async () => {
  const { path, log, done } = fresh();
  try {
    const script = `
      import { openAgentDb } from ${JSON.stringify(new URL('../store/agent-db.ts', import.meta.url).pathname)};
      import { GroupCommitter } from ${JSON.stringify(new URL('../store/group-commit.ts', import.meta.url).pathname)};
      import { AuditLog } from ${JSON.stringify(new URL('./audit-log.ts', import.meta.url).pathname)};
      const db = openAgentDb(${JSON.stringify(path)});
      const log = new AuditLog(db, { writer: new GroupCommitter(db) });
      for (let i = 0; i < 200; i++) await log.append({ at: new Date().toISOString(), actor: 'child', decision: 'executed' });
      db.close();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 200; i++) await log.append(entry(i));
    assert.equal(await exited, 0);
    const report = log.verify();
    assert.deepEqual([report.ok, report.entries, report.head?.seq], [true, 400, 400]);
    assert.equal(log.query({ actor: 'child', limit: 1000 }).items.length, 200);
  } finally {
    done();
  }
});

test('verify while another process appends reads one snapshot: never a false "missing at the end"', async () => {
  const { path, log, done } = fresh();
  try {
    const script = `
      import { openAgentDb } from ${JSON.stringify(new URL('../store/agent-db.ts', import.meta.url).pathname)};
      import { GroupCommitter } from ${JSON.stringify(new URL('../store/group-commit.ts', import.meta.url).pathname)};
      import { AuditLog } from ${JSON.stringify(new URL('./audit-log.ts', import.meta.url).pathname)};
      const db = openAgentDb(${JSON.stringify(path)});
      const log = new AuditLog(db, { writer: new GroupCommitter(db) });
      for (let i = 0; i < 3000; i++) await log.append({ at: new Date().toISOString(), actor: 'child', decision: 'executed' });
      db.close();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    let running = true;
    const exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        running = false;
        resolve(code);
      }),
    );
    const failures: string[] = [];
    let verifies = 0;
    while (running) {
      const report = log.verify();
      verifies++;
      if (!report.ok) failures.push(`${report.entries} entries: ${report.reason}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await exited, 0);
    assert.ok(verifies > 10, `${verifies} verifies ran while the child appended`);
    assert.deepEqual(failures, []);
    assert.deepEqual([log.verify().ok, log.verify().entries], [true, 3000]);
  } finally {
    done();
  }
});

test('filters and paging', async () => {
  const { log, done } = fresh();
  try {
    for (let i = 0; i < 30; i++) await log.append(entry(i));
    const alice = log.query({ actor: 'alice', limit: 10 });
    assert.equal(alice.items.length, 10);
    assert.ok(alice.items.every((e) => e.actor === 'alice'));
    const rest = log.query({ actor: 'alice', limit: 10, after: alice.next });
    assert.equal(rest.items.length, 5);
    assert.equal(rest.next, undefined);
    assert.equal(log.query({ decision: 'denied', limit: 100 }).items.length, 10);
    assert.equal(log.query({ since: entry(20).at, until: entry(24).at }).items.length, 5);
    assert.throws(() => log.query({ decision: 'maybe' }), { code: 'DVM_QUERY_INVALID' });
    assert.throws(() => log.query({ limit: 5000 }), { code: 'DVM_QUERY_INVALID' });
    assert.equal([...log.exportJsonl({ actor: 'bob' })].length, 15);
    // tail: the newest matching entries, oldest of them first, no next page.
    const seqs = (page: { items: { seq: number }[] }) => page.items.map((e) => e.seq);
    assert.deepEqual(seqs(log.query({ tail: 3 })), [28, 29, 30]);
    const lastAlice = log.query({ actor: 'alice', tail: '2' });
    assert.deepEqual(
      [seqs(lastAlice), lastAlice.next, lastAlice.head],
      [seqs(log.query({ actor: 'alice', limit: 100 })).slice(-2), undefined, 30],
    );
    assert.throws(() => log.query({ tail: 3, limit: 5 }), /tail and limit do not go together/);
    assert.throws(() => log.query({ tail: 3, after: 5 }), /tail and after do not go together/);
    assert.throws(() => log.query({ tail: 0 }), /tail must be 1–1000/);
    assert.throws(() => [...log.exportJsonl({ tail: 3 })], /tail does not apply/);
  } finally {
    done();
  }
});

test('a target filter matches entries holding every pair it names, in any order, exactly (a label selector)', async () => {
  const { log, done } = fresh();
  try {
    const targets = [
      'env=prod,cluster=eu',
      'cluster=eu,env=prod',
      'env=prod,cluster=eu2',
      'env=Prod,cluster=eu',
      'env=prod',
    ];
    for (const [i, target] of targets.entries()) await log.append(entry(i, { target }));
    const seqsOf = (target: string) => log.query({ target }).items.map((e) => e.seq);
    assert.deepEqual(seqsOf('cluster=eu'), [1, 2, 4]);
    assert.deepEqual(seqsOf('env=prod,cluster=eu'), [1, 2]);
    assert.deepEqual(seqsOf('cluster=eu,env=prod'), [1, 2]);
    assert.deepEqual(seqsOf('env=prod'), [1, 2, 3, 5]);
    // No prefixes, no wildcards, case as written.
    assert.deepEqual(seqsOf('cluster=e'), []);
    assert.deepEqual(seqsOf('cluster=%'), []);
    assert.throws(() => log.query({ target: 'env=prod,eu' }), /target pair "eu" is not key=value/);
    const many = Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join(',');
    assert.throws(() => log.query({ target: many }), {
      code: 'DVM_QUERY_INVALID',
      message: /1000 pairs; a filter takes at most 20/,
    });
  } finally {
    done();
  }
});

test("a refusal's route is found by --route, and by an action filter shaped like a route", async () => {
  const { log, done } = fresh();
  try {
    await log.append(entry(0));
    const refusal = { at: entry(1).at, actor: 'anonymous', decision: 'denied' as const };
    await log.append({ ...refusal, route: 'GET /v1/audit', reasons: ['missing'] });
    await log.append({ ...refusal, route: 'POST /v1/actions/execute', reasons: ['invalid'] });
    const seqsOf = (filters: Parameters<typeof log.query>[0]) => log.query(filters).items.map((e) => e.seq);
    assert.deepEqual(seqsOf({ route: 'GET /v1/audit' }), [2]);
    assert.deepEqual(seqsOf({ action: 'POST /v1/actions/execute' }), [3]);
    assert.deepEqual(seqsOf({ action: 'GET /v1/nothing' }), []);
    // A plain action name still means the action column only.
    assert.deepEqual(seqsOf({ action: entry(0).action }), [1]);
  } finally {
    done();
  }
});

test('secrets never reach the audit database', async () => {
  const { path, db, log, done } = fresh();
  try {
    const token = `dvm_0123abcd_${'S'.repeat(40)}xyz`;
    await log.append(
      entry(1, {
        params: {
          url: 'https://user:hunter2secret@example.com/x',
          note: `Authorization: Bearer ${token}`,
          key: 'AKIAABCDEFGHIJKLMNOP',
        },
      }),
    );
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(path).toString('latin1');
    for (const secret of ['hunter2secret', token, 'AKIAABCDEFGHIJKLMNOP'])
      assert.ok(!bytes.includes(secret), secret);
    assert.match(JSON.stringify(log.query({}).items[0].params), /\[REDACTED\]/);
  } finally {
    done();
  }
});

test("redact.patterns redact an entry's params and reasons but never the ids of the policies that decided", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-audit-'));
  const db = openAgentDb(join(dir, 'agent.db'));
  const writer = new GroupCommitter(db);
  const log = new AuditLog(db, { writer, redactor: createRedactor({ patterns: [/deploy-[0-9]+/g] }) });
  try {
    await log.append(
      entry(1, {
        decision: 'denied',
        policyIds: ['no-deploy-42'],
        reasons: ['deploy-42 is frozen'],
        params: { name: 'deploy-42' },
      }),
    );
    const [stored] = log.query({}).items;
    assert.deepEqual(stored.policyIds, ['no-deploy-42'], 'who denied it stays known');
    assert.deepEqual(stored.reasons, ['[REDACTED] is frozen']);
    assert.deepEqual(stored.params, { name: '[REDACTED]' });
    assert.equal(log.verify().ok, true);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
