import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { DVM_BIN, dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';

// Starts `dvm audit --follow …` and collects what it prints; `until` waits for its stdout or stderr to match.
function follow(home: string, args: string[], env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [DVM_BIN, 'audit', '--follow', ...args], {
    env: { ...process.env, DVM_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const changed = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.on('data', (d) => {
    out += d;
    changed();
  });
  child.stderr?.on('data', (d) => {
    err += d;
    changed();
  });
  return {
    out: () => out,
    err: () => err,
    async until(what: string, match: () => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!match()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${out}\n${err}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    stop: () => child.kill('SIGKILL'),
  };
}

const seqs = (jsonLines: string) =>
  jsonLines
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).seq as number);

test('dvm audit pages with --after, exports from --after on, and --follow prints new entries as they are written', async (t) => {
  const home = tempHome();
  for (let i = 0; i < 3; i++) dvmOk(home, ['action', 'run', 'system.info']);
  const first = dvmOk(home, ['audit', '--limit', '2']);
  assert.deepEqual(
    first.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((r) => r.split(/\s+/)[0]),
    ['1', '2'],
  );
  assert.match(first.stderr, /^more entries: the next page is --after 2$/m);
  const second = JSON.parse(dvmOk(home, ['audit', '--limit', '2', '--after', '2', '-o', 'json']).stdout);
  assert.deepEqual(
    second.items.map((e: { seq: number }) => e.seq),
    [3, 4],
  );
  assert.equal(second.head, 6, 'the page says where the log ends');
  assert.deepEqual(seqs(dvmOk(home, ['audit', 'export', '--after', '4']).stdout), [5, 6]);

  const watcher = follow(home, ['-o', 'json']);
  t.after(() => watcher.stop());
  await watcher.until('the follow to start', () => /after entry 6/.test(watcher.err()));
  assert.equal(watcher.out(), '', 'only new entries');
  dvmOk(home, ['action', 'run', 'system.info']);
  await watcher.until('two new entries', () => seqs(watcher.out()).length === 2);
  assert.deepEqual(seqs(watcher.out()), [7, 8]);

  const fromStart = follow(home, ['--after', '5']);
  t.after(() => fromStart.stop());
  await fromStart.until('entries 6 to 8', () => /^8 /m.test(fromStart.out()));
  assert.match(
    fromStart.out(),
    /^SEQ +TIME +ACTOR +ACTION +DECISION +ENV +REQUEST\n6 +\S+ +local +system\.info +executed/,
  );

  const misplaced = dvm(home, ['audit', 'verify', '--follow']);
  assert.equal(misplaced.status, 2);
  assert.match(misplaced.stderr, /DVM_USAGE: --follow is a flag of dvm audit, not of audit verify/);

  // verify checks the whole chain (a filter would suggest a part could be), and reports as JSON on request.
  const filtered = dvm(home, ['audit', 'verify', '--actor', 'x']);
  assert.equal(filtered.status, 2);
  assert.match(filtered.stderr, /DVM_USAGE: dvm audit verify checks the whole chain: --actor does not apply/);
  const report = JSON.parse(dvmOk(home, ['audit', 'verify', '-o', 'json']).stdout);
  assert.deepEqual([report.ok, report.entries, report.head.seq], [true, 8, 8]);
  // --tail: the newest entries, oldest of them first.
  const newest = dvmOk(home, ['audit', '--tail', '2']).stdout.trim().split('\n').slice(1);
  assert.deepEqual(
    newest.map((row) => row.split(/\s+/)[0]),
    ['7', '8'],
  );
  assert.match(
    dvm(home, ['audit', 'export', '--tail', '2']).stderr,
    /DVM_QUERY_INVALID.*tail does not apply/,
  );
  // Repeated --target pairs must all hold, the same key too (not the last one alone).
  assert.match(dvmOk(home, ['audit', '--target', 'env=dev']).stdout, /system\.info/);
  assert.equal(
    dvmOk(home, ['audit', '--target', 'env=prod', '--target', 'env=dev']).stdout,
    'No audit entries.\n',
  );
  // A value with commas is one pair, as dvm action run --target records it; one that reads like several pairs
  // gets a note saying how to ask for them (the API joins pairs with commas, dvm audit repeats the flag).
  const commas = dvm(home, ['audit', '--target', 'env=dev,env=dev']);
  assert.equal(commas.stdout, 'No audit entries.\n');
  assert.match(
    commas.stderr,
    /^note: --target env=dev,env=dev is one pair \(env = "dev,env=dev"\), .*repeat the flag: --target env=dev --target env=dev$/m,
  );
  assert.equal(dvm(home, ['audit', '--target', 'env=dev,prod']).stderr, '', 'no note: it reads as one value');
  dvmOk(home, [
    'action',
    'run',
    'system.info',
    '--target',
    'cluster=eu,zone=a',
    '--request-id',
    'comma-label',
  ]);
  assert.match(
    dvmOk(home, ['audit', '--target', 'cluster=eu,zone=a']).stdout,
    /comma-label/,
    'the label is found as it was given',
  );
  for (const argv of [
    ['audit', '-f', join(home, 'q.jsonl')],
    ['audit', 'verify', '-f', join(home, 'q.jsonl')],
  ]) {
    const ignored = dvm(home, argv);
    assert.equal(ignored.status, 2, `${argv.join(' ')}: -f is never ignored`);
    assert.match(ignored.stderr, /DVM_USAGE: -f is a flag of dvm audit export/);
  }
  const two = dvm(home, ['audit', 'export', '-f', join(home, 'a.jsonl'), '-f', join(home, 'b.jsonl')]);
  assert.equal(two.status, 2, 'one file per export, never the first of two silently');
  assert.match(two.stderr, /DVM_USAGE: dvm audit export writes one file/);
  // export takes --limit as a cap of the whole export.
  assert.equal(dvmOk(home, ['audit', 'export', '--limit', '3']).stdout.trim().split('\n').length, 3);
  // A refused export leaves the file it names as it was.
  const kept = join(home, 'kept.jsonl');
  dvmOk(home, ['audit', 'export', '--limit', '2', '-f', kept]);
  assert.equal(dvm(home, ['audit', 'export', '--limit', '0', '-f', kept]).status, 1);
  assert.equal(readFileSync(kept, 'utf8').trim().split('\n').length, 2);
  assert.match(
    dvm(home, ['audit', 'export', '--limit', '0']).stderr,
    /DVM_QUERY_INVALID limit: limit 0 exports nothing/,
  );
});

test('dvm audit --server queries and follows a remote agent with an admin token; verify stays on the host', async (t) => {
  const home = tempHome();
  const admin = createToken(home, 'boss', 'admin');
  const viewer = createToken(home, 'peek', 'viewer');
  const serve = await startServe(home);
  t.after(() => serve.stop());
  const as = (token: string) => ({ env: { DVM_SERVER: serve.url, DVM_TOKEN: token } });
  const run = (requestId: string) =>
    api(serve.url, 'POST', '/v1/actions/execute', {
      token: admin,
      body: { request_id: requestId, action: 'system.info', target: { env: 'dev' } },
    });
  assert.equal((await run('r1')).status, 200);

  const listed = await dvmAsync(home, ['audit', '--actor', 'boss'], as(admin));
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /^1 +\S+ +boss +system\.info +allowed +dev +r1$/m);
  assert.match(listed.stdout, /^2 +\S+ +boss +system\.info +executed +dev +r1$/m);
  const refused = await dvmAsync(home, ['audit'], as(viewer));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /DVM_FORBIDDEN/);
  const verify = await dvmAsync(home, ['audit', 'verify'], as(admin));
  assert.equal(verify.status, 2);
  assert.match(verify.stderr, /DVM_USAGE: dvm audit verify reads the agent database itself/);

  const watcher = follow(home, ['-o', 'json', '--decision', 'executed'], as(admin).env);
  t.after(() => watcher.stop());
  await watcher.until('the follow to start', () =>
    /following the audit log after entry \d+/.test(watcher.err()),
  );
  assert.equal((await run('r2')).status, 200);
  await watcher.until('the new executed entry', () => watcher.out().includes('"requestId":"r2"'));
  const entries = watcher
    .out()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    entries.map((e) => [e.actor, e.decision, e.requestId]),
    [['boss', 'executed', 'r2']],
    'filtered as asked, nothing from before',
  );
});

test('an audit or execution row changed outside dvm does not stop dvm audit, its export or execution list; verify names it; a dropped table is DVM_STORE_CORRUPT', () => {
  const home = tempHome();
  for (let i = 0; i < 3; i++) dvmOk(home, ['action', 'run', 'system.info']);
  const db = new DatabaseSync(join(home, 'agent.db'));
  try {
    db.exec("UPDATE audit SET entry = 'null' WHERE seq = 2");
    db.exec("UPDATE audit SET entry = '{bad' WHERE seq = 3");
    db.exec("UPDATE executions SET target = '{bad', result = 'nope' WHERE rowid = 1");
  } finally {
    db.close();
  }
  const listed = JSON.parse(dvmOk(home, ['audit', '-o', 'json']).stdout) as {
    items: { seq: number; actor: string; decision: string; damaged?: string }[];
  };
  assert.deepEqual(
    listed.items.slice(0, 4).map((e) => [e.seq, e.actor, e.decision, Boolean(e.damaged)]),
    [
      [1, 'local', 'allowed', false],
      [2, 'local', 'executed', true],
      [3, 'local', 'allowed', true],
      [4, 'local', 'executed', false],
    ],
  );
  assert.match(dvmOk(home, ['audit']).stdout, /executed/);
  const file = join(home, 'audit.jsonl');
  dvmOk(home, ['audit', 'export', '-f', file]);
  const exported = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(exported.length, 6);
  assert.match(exported[1].damaged, /not an audit entry/);
  const verify = dvm(home, ['audit', 'verify']);
  assert.equal(verify.status, 1);
  assert.match(verify.stderr, /DVM_AUDIT_TAMPERED: audit chain broken at entry 2/);
  // -o json reports a broken chain on stdout too (a script's gate reads it), and still exits 1.
  const verifyJson = dvm(home, ['audit', 'verify', '-o', 'json']);
  assert.equal(verifyJson.status, 1);
  const broken = JSON.parse(verifyJson.stdout);
  assert.deepEqual([broken.ok, broken.brokenAt, broken.entries], [false, 2, 1]);
  assert.match(broken.reason, /\S/);
  const executions = dvmOk(home, ['execution', 'list', '-o', 'json']).stdout;
  assert.match(executions, /not JSON \(changed outside dvm\)/);
  assert.doesNotMatch(`${verify.stderr}${executions}`, /TypeError|DVM_INTERNAL/);

  const dropped = new DatabaseSync(join(home, 'agent.db'));
  dropped.exec('DROP TABLE audit_head');
  dropped.close();
  const run = dvm(home, ['action', 'run', 'system.info']);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /DVM_STORE_CORRUPT: the store was changed outside dvm: no such table: audit_head/);
});

// Rewrites entry `seq`'s actor as someone who holds the database would, recomputing every later hash and the head,
// so that the chain inside the database stays intact.
function rewriteHistory(home: string, seq: number, actor: string): void {
  const db = new DatabaseSync(join(home, 'agent.db'));
  try {
    const rows = db
      .prepare('SELECT seq, entry, prev_hash FROM audit WHERE seq >= ? ORDER BY seq')
      .all(seq) as {
      seq: number;
      entry: string;
      prev_hash: string;
    }[];
    let prev = rows[0].prev_hash;
    for (const row of rows) {
      const entry = row.seq === seq ? JSON.stringify({ ...JSON.parse(row.entry), actor }) : row.entry;
      const hash = createHash('sha256').update(prev).update(entry).digest('hex');
      db.prepare('UPDATE audit SET entry = ?, actor = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(
        entry,
        row.seq === seq ? actor : JSON.parse(entry).actor,
        prev,
        hash,
        row.seq,
      );
      prev = hash;
    }
    db.prepare('UPDATE audit_head SET hash = ? WHERE id = 1').run(prev);
  } finally {
    db.close();
  }
}

test('dvm audit verify --anchor / --anchor-file catches a rewrite of the whole chain that verify alone cannot', () => {
  const home = tempHome();
  for (let i = 0; i < 3; i++) dvmOk(home, ['action', 'run', 'system.info']);
  const anchorFile = join(home, 'anchors.log');
  // What an operator keeps elsewhere: each verify appended, text and JSON alike.
  appendFileSync(anchorFile, dvmOk(home, ['audit', 'verify']).stdout);
  const firstHead = /^head: entry (\d+) ([0-9a-f]{64})$/m.exec(readFileSync(anchorFile, 'utf8'));
  assert.ok(firstHead, 'verify prints its head');
  assert.equal(firstHead[1], '6');
  dvmOk(home, ['action', 'run', 'system.info']);
  appendFileSync(anchorFile, dvmOk(home, ['audit', 'verify', '-o', 'json']).stdout);

  const intact = JSON.parse(
    dvmOk(home, ['audit', 'verify', '--anchor-file', anchorFile, '-o', 'json']).stdout,
  );
  assert.deepEqual([intact.ok, intact.entries, intact.anchors], [true, 8, { given: 2, matched: 2 }]);
  assert.match(
    dvmOk(home, ['audit', 'verify', '--anchor', `${firstHead[1]}:${firstHead[2]}`]).stdout,
    /^# anchors: 1 of 1 matched$/m,
  );

  // A rewrite with every later hash and the head recomputed: intact from inside, caught by the anchors.
  rewriteHistory(home, 2, 'someone-else');
  assert.equal(JSON.parse(dvmOk(home, ['audit', 'verify', '-o', 'json']).stdout).ok, true);
  const caught = dvm(home, ['audit', 'verify', '--anchor-file', anchorFile]);
  assert.equal(caught.status, 1);
  assert.match(
    caught.stderr,
    /DVM_AUDIT_TAMPERED: audit chain broken at entry 6: its hash is [0-9a-f]{64}, not the anchor's [0-9a-f]{64}: the log up to this entry was rewritten/,
  );
  const caughtJson = JSON.parse(
    dvm(home, ['audit', 'verify', '--anchor-file', anchorFile, '-o', 'json']).stdout,
  );
  assert.deepEqual(
    [caughtJson.ok, caughtJson.brokenAt, caughtJson.anchors],
    [false, 6, { given: 2, matched: 0 }],
  );

  // Entries cut off the end with the head moved back: the kept head names an entry that is gone.
  const cut = tempHome();
  for (let i = 0; i < 3; i++) dvmOk(cut, ['action', 'run', 'system.info']);
  const head = JSON.parse(dvmOk(cut, ['audit', 'verify', '-o', 'json']).stdout).head;
  const db = new DatabaseSync(join(cut, 'agent.db'));
  db.exec(
    'DELETE FROM audit WHERE seq > 4; UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit WHERE seq = 4)',
  );
  db.close();
  assert.equal(dvm(cut, ['audit', 'verify']).status, 0, 'a clean cut is invisible from inside');
  const gone = dvm(cut, ['audit', 'verify', '--anchor', `${head.seq}:${head.hash}`]);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /an anchor names entry 6, but the chain ends at entry 4/);
});

test('dvm audit verify refuses anchors that are not anchors, with the file and line, and reads only regular files', () => {
  const home = tempHome();
  dvmOk(home, ['action', 'run', 'system.info']);
  const usage = (args: string[], pattern: RegExp) => {
    const result = dvm(home, args);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, pattern);
  };
  usage(['audit', 'verify', '--anchor', '2:abc'], /DVM_USAGE: --anchor "2:abc" is not SEQ:HASH/);
  usage(['audit', 'verify', '--anchor', `0:${'a'.repeat(64)}`], /--anchor "0:a+" is not SEQ:HASH/);
  usage(
    ['audit', '--anchor', `1:${'a'.repeat(64)}`],
    /--anchor is a flag of dvm audit verify, not of dvm audit/,
  );
  const file = join(home, 'anchors.log');
  writeFileSync(file, `# kept heads\nhead: entry 1 ${'b'.repeat(64)}\nhello\n`);
  usage(['audit', 'verify', '--anchor-file', file], /anchors\.log:3: "hello" is no audit anchor/);
  writeFileSync(file, `{"ok":false,"brokenAt":2,"head":{"seq":2,"hash":"${'c'.repeat(64)}"}}\n`);
  usage(['audit', 'verify', '--anchor-file', file], /the anchor file .*anchors\.log holds no anchor/);
  writeFileSync(file, 'audit chain intact: 2 entries\n\n');
  usage(['audit', 'verify', '--anchor-file', file], /the anchor file .*anchors\.log holds no anchor/);
  usage(['audit', 'verify', '--anchor-file', join(home, 'missing.log')], /cannot read the anchor file/);
  // A device or a FIFO would never end or never answer: only regular files are read.
  usage(
    ['audit', 'verify', '--anchor-file', '/dev/zero'],
    /the anchor file \/dev\/zero is not a regular file/,
  );
  usage(['audit', 'verify', '--anchor-file', home], /is not a regular file/);
});

test('dvm audit verify --anchor-file as cron keeps it: the head of an empty log, repeated heads, and failed reports appended after a detection', () => {
  const home = tempHome();
  const file = join(home, 'anchors.log');
  // The first verify ran on an empty log; later ones appended the same head twice.
  appendFileSync(file, dvmOk(home, ['audit', 'verify']).stdout);
  assert.match(readFileSync(file, 'utf8'), /^head: entry 0 0{64}$/m);
  dvmOk(home, ['action', 'run', 'system.info']);
  appendFileSync(file, dvmOk(home, ['audit', 'verify', '-o', 'json']).stdout);
  appendFileSync(file, dvmOk(home, ['audit', 'verify', '-o', 'json']).stdout);
  const intact = JSON.parse(dvmOk(home, ['audit', 'verify', '--anchor-file', file, '-o', 'json']).stdout);
  assert.deepEqual(intact.anchors, { given: 2, matched: 2 }, 'the same head twice is one anchor');

  // A rewrite: the next verify appends the new head (same entry, another hash) and the failed report after it.
  rewriteHistory(home, 1, 'someone-else');
  appendFileSync(file, dvmOk(home, ['audit', 'verify', '-o', 'json']).stdout);
  for (let i = 0; i < 2; i++) {
    const caught = dvm(home, ['audit', 'verify', '--anchor-file', file, '-o', 'json']);
    assert.equal(caught.status, 1, caught.stderr);
    assert.match(
      caught.stderr,
      /DVM_AUDIT_TAMPERED: audit chain broken at entry 2: its hash is [0-9a-f]{64}, not the anchor's/,
    );
    const report = JSON.parse(caught.stdout);
    assert.deepEqual([report.ok, report.brokenAt], [false, 2]);
    assert.equal(
      report.anchors.skipped_failed_reports ?? 0,
      i,
      'failed reports appended are passed over, counted',
    );
    appendFileSync(file, caught.stdout);
  }
});
