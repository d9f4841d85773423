import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  deadlocksInTail,
  jcmdAnswerComplete,
  parseHeap,
  parseThreadDump,
  threadDumpComplete,
  threadDumpDoubt,
} from './parse.ts';

// Thread dumps of test/fixtures/jvm/DvmHeaderNamesFixture.java captured on OpenJDK 17.0.15 and 25.0.3: thread names
// that imitate the end of a thread's header, on one line or over several.
const FIXTURES = new URL('../../../../test/fixtures/jvm/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const JDKS = ['jdk17', 'jdk25'];
const NEWLINE_DOUBT = /^a thread's name holds a newline \(jcmd prints names as they are\): .*may be misread$/;
const smrLength = (dump: string) => Number(/_java_thread_list=0x[0-9a-f]+, length=(\d+),/.exec(dump)?.[1]);

test('a thread named on one line with `" tid=0x0 nid=N` is counted with its state (the header ends at the last quote)', () => {
  for (const jdk of JDKS) {
    const dump = fixture(`thread-dump-${jdk}-one-line-header-name.txt`);
    assert.equal(dump.match(/^"req" tid=0x0 nid=\d" #\d+ /gm)?.length, 3, jdk);
    const summary = parseThreadDump(dump);
    assert.equal(summary.threadCount, smrLength(dump), `${jdk}: every Java thread the dump lists`);
    // One of the three holds the monitor and sleeps; the other two wait for it.
    assert.equal(summary.states.BLOCKED, 2, jdk);
    assert.equal(summary.states.TIMED_WAITING, 1 + 2, `${jdk}: main, the holder, and the JVM's own sleeper`);
    assert.equal(threadDumpComplete(dump), true, jdk);
    assert.equal(threadDumpDoubt(dump), undefined, `${jdk}: a one-line name reads for sure`);
  }
});

test('a name whose first line ends like a header and whose next line is "JNI global refs" is doubtful, never a silent fake (hide, fakedl)', () => {
  for (const jdk of JDKS) {
    const hide = fixture(`thread-dump-${jdk}-name-hide.txt`);
    assert.match(hide, /^"evil" tid=0x0 nid=0\nJNI global refs: 1, weak refs: 0\n" #\d+ /m, jdk);
    // The real deadlock (evil and plain-B) is reported by jcmd; the name hides its report's structure.
    assert.match(hide, /^Found 1 deadlock\.$/m, jdk);
    assert.match(threadDumpDoubt(hide) ?? '', NEWLINE_DOUBT, `${jdk} hide`);

    const fakedl = fixture(`thread-dump-${jdk}-name-fakedl.txt`);
    assert.match(fakedl, /^"ghost-1":$/m, jdk);
    assert.match(threadDumpDoubt(fakedl) ?? '', NEWLINE_DOUBT, `${jdk} fakedl`);
    // The deadlock list is kept as read (it may hold the ghost): the doubt says so.
    assert.match(threadDumpDoubt(fakedl) ?? '', /deadlocks may be misread/);
  }
});

test("names that spell a daemon thread's header and its state are doubtful (fakecount)", () => {
  for (const jdk of JDKS) {
    const dump = fixture(`thread-dump-${jdk}-name-fakecount.txt`);
    assert.match(dump, /^"fake0" #990 daemon prio=5 /m, jdk);
    assert.match(threadDumpDoubt(dump) ?? '', NEWLINE_DOUBT, jdk);
  }
});

test('names with newlines (the earlier odd-names captures) are doubtful; ordinary captured dumps are not', () => {
  for (const name of [
    'thread-dump-jdk17-odd-names.txt',
    'thread-dump-jdk25-odd-names.txt',
    'thread-dump-jdk17-odd-names-deadlock.txt',
    'thread-dump-jdk25-odd-names-deadlock.txt',
  ])
    assert.match(threadDumpDoubt(fixture(name)) ?? '', NEWLINE_DOUBT, name);
  for (const name of [
    'thread-dump-two-deadlocks.txt',
    'thread-dump-one-lock-deadlock.txt',
    'thread-dump-no-deadlock.txt',
    'thread-dump-jdk25-two-deadlocks.txt',
  ]) {
    const dump = fixture(name);
    assert.equal(threadDumpDoubt(dump), undefined, name);
    assert.equal(parseThreadDump(dump).threadCount, smrLength(dump), name);
  }
});

test('a whole dump that counts other than its SMR line says is doubtful; a dump cut short is left to threadDumpComplete', () => {
  const dump = fixture('thread-dump-no-deadlock.txt');
  const other = dump.replace(
    /(_java_thread_list=0x[0-9a-f]+, length=)(\d+)/,
    (_, head, n) => `${head}${+n + 1}`,
  );
  assert.match(threadDumpDoubt(other) ?? '', /says it lists 13 Java threads, 12 were read/);
  assert.equal(threadDumpDoubt(other, true), undefined, 'part of a capped dump: no count to compare');
  const cut = dump.slice(0, dump.indexOf('JNI global refs'));
  assert.equal(threadDumpDoubt(cut), undefined);
  assert.equal(threadDumpComplete(cut), false);
});

test('deadlocksInTail: the end of a dump that is all deadlock reports gives the count and the whole reports', () => {
  const dump = fixture('thread-dump-two-deadlocks.txt');
  const reports = dump.slice(dump.indexOf('Found one Java-level deadlock:'));
  // The end kept starts in the middle of the first report: only the second is whole.
  const tail = reports.slice(reports.indexOf('\n', 100) + 1);
  const found = deadlocksInTail(tail);
  assert.equal(found?.reported, 2);
  assert.equal(found?.deadlocks.length, 1);
  assert.equal(deadlocksInTail(reports)?.deadlocks.length, 2);
  // Cut before the count line (the JVM died), or a dump with its closing line: not this case.
  assert.equal(deadlocksInTail(tail.slice(0, tail.indexOf('Found 2 deadlocks'))), undefined);
  assert.equal(deadlocksInTail(dump), undefined);
});

test('GC.heap_info of JDK 8–24 (heap lines indented one space) is whole only with its Metaspace line; JDK 25 keeps its rule', () => {
  for (const name of ['jdk17-g1', 'jdk17-parallel', 'jdk17-serial', 'jdk17-zgc', 'jdk17-epsilon']) {
    const text = fixture(`status/${name}.GC.heap_info.txt`);
    assert.equal(jcmdAnswerComplete('GC.heap_info', text), true, name);
    const beforeMetaspace = text.slice(0, text.indexOf(' Metaspace'));
    assert.ok(beforeMetaspace.endsWith('\n'));
    assert.equal(jcmdAnswerComplete('GC.heap_info', beforeMetaspace), false, `${name} cut before Metaspace`);
    // Cut after its first two lines (what the reviewer's heap-cut showed passing; ZGC's second is its Metaspace).
    if (name === 'jdk17-zgc') continue;
    const twoLines = `${text.split('\n').slice(0, 3).join('\n')}\n`;
    assert.equal(jcmdAnswerComplete('GC.heap_info', twoLines), false, `${name} cut after two lines`);
  }
  // JDK 25 prints no Metaspace line there: its first heap line whole is enough, as before.
  const g1 = fixture('status/jdk25-g1.GC.heap_info.txt');
  assert.equal(jcmdAnswerComplete('GC.heap_info', `${g1.split('\n').slice(0, 2).join('\n')}\n`), true);
});

test('parseHeap reads Epsilon from its space line: committed its size, used top - bottom (JDK 17, 25)', () => {
  const K = 1024;
  assert.deepEqual(parseHeap(fixture('status/jdk17-epsilon.GC.heap_info.txt')), {
    usedBytes: 0xfc094e38 - 0xfc000000,
    committedBytes: 65536 * K,
    metaspaceUsedBytes: 131 * K,
  });
  assert.deepEqual(parseHeap(fixture('status/jdk25-epsilon.GC.heap_info.txt')), {
    usedBytes: 0xfc145340 - 0xfc000000,
    committedBytes: 65536 * K,
  });
  // Without the addresses, from its percentage.
  assert.deepEqual(parseHeap('1:\nEpsilon Heap\nAllocation space:\n space 262144K, 6% used\n'), {
    usedBytes: Math.round(262144 * K * 0.06),
    committedBytes: 262144 * K,
  });
});
