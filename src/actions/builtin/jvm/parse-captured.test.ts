import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  jcmdAnswerComplete,
  parseDeadlocks,
  parseHeap,
  parseThreadDump,
  threadDumpComplete,
} from './parse.ts';

// Text captured from OpenJDK 17.0.15 (Debian) and 25.0.3 (Temurin): the five answers jvm.status reads from a JVM
// with G1 (test/fixtures/jvm/status/jdkNN-g1.*), GC.heap_info under each other collector, and thread dumps of
// DvmOddNamesFixture (names with newlines; with "deadlock", a monitor deadlock with a 5,000-character name).
const FIXTURES = new URL('../../../../test/fixtures/jvm/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const STATUS = readdirSync(new URL('status/', FIXTURES)).map((name) => ({
  name,
  command: name.split('.').slice(1, -1).join('.'),
  text: fixture(`status/${name}`),
}));

test('jcmdAnswerComplete: every captured answer of JDK 17 and 25 is whole (JDK 25 prints no Metaspace line in GC.heap_info)', () => {
  assert.equal(STATUS.length, 20);
  const jdk25Heap = fixture('status/jdk25-g1.GC.heap_info.txt');
  assert.doesNotMatch(jdk25Heap, /Metaspace/);
  for (const { name, command, text } of STATUS) {
    assert.ok(
      ['VM.version', 'VM.uptime', 'GC.heap_info', 'VM.flags', 'PerfCounter.print'].includes(command),
      name,
    );
    assert.equal(jcmdAnswerComplete(command, text), true, name);
    // Cut short: in its last line, or to jcmd's "PID:" line alone.
    assert.equal(jcmdAnswerComplete(command, text.slice(0, -2)), false, `${name} cut in its last line`);
    assert.equal(
      jcmdAnswerComplete(command, text.slice(0, text.indexOf('\n') + 1)),
      false,
      `${name}: PID line`,
    );
  }
  // Cut in the heap's first line, at any point of it: never whole.
  for (const name of ['jdk17-g1', 'jdk25-g1', 'jdk25-serial', 'jdk25-zgc', 'jdk25-shenandoah']) {
    const text = fixture(`status/${name}.GC.heap_info.txt`);
    const secondLine = text.indexOf('\n', text.indexOf('\n') + 1);
    for (let at = text.indexOf('\n') + 1; at < secondLine; at += 7)
      assert.equal(jcmdAnswerComplete('GC.heap_info', text.slice(0, at)), false, `${name} cut at ${at}`);
  }
});

test('parseHeap reads the heap of JDK 17 and 25 under G1, Serial, Parallel, ZGC and Shenandoah', () => {
  const K = 1024;
  const expected: Record<string, [number, number]> = {
    // [used, committed] as the captured answers print them
    'jdk17-g1': [1316 * K, 65536 * K],
    'jdk25-g1': [2190 * K, 65536 * K], // "total reserved 65536K, committed 65536K, used 2190K", not indented
    'jdk17-serial': [(1405 + 0) * K, (19648 + 43712) * K],
    'jdk25-serial': [(1397 + 1166) * K, (19648 + 43712) * K], // DefNew and Tenured
    'jdk17-parallel': [(1310 + 0) * K, (18944 + 44032) * K],
    'jdk25-parallel': [(1310 + 1166) * K, (18944 + 44032) * K],
    'jdk17-zgc': [2 * K * K, 64 * K * K],
    'jdk25-zgc': [2 * K * K, 64 * K * K],
    'jdk17-shenandoah': [1280 * K, 65536 * K],
    'jdk25-shenandoah': [2048 * K, 65536 * K],
  };
  for (const [name, [used, committed]] of Object.entries(expected)) {
    const heap = parseHeap(fixture(`status/${name}.GC.heap_info.txt`));
    assert.deepEqual([heap.usedBytes, heap.committedBytes], [used, committed], name);
    // Metaspace where the JDK prints it with the heap (up to 24), none on 25.
    assert.equal(heap.metaspaceUsedBytes !== undefined, name.startsWith('jdk17'), name);
  }
});

test('a thread named with newlines that spell "JNI global refs", a deadlock count or a whole deadlock report fakes nothing (JDK 17, 25)', () => {
  for (const jdk of ['jdk17', 'jdk25']) {
    const dump = fixture(`thread-dump-${jdk}-odd-names.txt`);
    // The names jcmd printed as they are: a closing line, a deadlock count and a report before the real closing line.
    assert.match(dump, /^"x\nJNI global refs: 1, weak refs: 0\nFound 1 deadlock\.\n" #\d+ /m, jdk);
    assert.match(dump, /^"y\nFound one Java-level deadlock:\n=+\n"ghost-1":\n/m, jdk);
    assert.equal(threadDumpComplete(dump), true, `${jdk}: a healthy dump is whole`);
    const summary = parseThreadDump(dump);
    assert.deepEqual(summary.deadlocks, [], `${jdk}: no ghost deadlock`);
    assert.deepEqual(parseDeadlocks(dump), []);
    // Every Java thread counted, those named with newlines too (one header end "\" #N" each), daemons on JDK 25 too
    // (whose headers carry the OS thread id: `#22 [4602] daemon prio=9`).
    assert.equal(summary.threadCount, dump.match(/" #\d+ /g)?.length, jdk);
    assert.equal(summary.daemonCount, dump.match(/" #\d+ (\[\d+\] )?daemon /g)?.length, jdk);
    assert.ok(summary.daemonCount > 0, jdk);
    assert.equal(summary.states.TIMED_WAITING, 5, `${jdk}: main and the four named threads sleep`);
    // Cut before the real closing line: not whole, whatever the names say.
    const real = dump.lastIndexOf('JNI global refs');
    assert.equal(threadDumpComplete(dump.slice(0, real)), false, jdk);
    assert.equal(threadDumpComplete(dump.slice(0, dump.indexOf('"quote":'))), false, jdk);
  }
});

test('a deadlock with a 5,000-character thread name (cut by HotSpot, no closing ":) lists both threads, each holder within its line', () => {
  for (const jdk of ['jdk17', 'jdk25']) {
    const dump = fixture(`thread-dump-${jdk}-odd-names-deadlock.txt`);
    assert.equal(threadDumpComplete(dump), true, jdk);
    const { deadlocks } = parseThreadDump(dump);
    assert.equal(deadlocks.length, 1, jdk);
    const [quoted, long] = deadlocks[0].threads;
    assert.equal(deadlocks[0].threads.length, 2, jdk);
    assert.equal(quoted.name, 'a"b":', jdk);
    assert.match(quoted.heldBy, /^D{1000,2100}$/, `${jdk}: the holder, as cut in its line`);
    assert.match(long.name, /^D{1000,2100}$/, jdk);
    assert.equal(long.heldBy, 'a"b":', jdk);
    for (const thread of deadlocks[0].threads) {
      assert.equal(thread.kind, 'monitor');
      assert.equal(thread.lockClass, 'java.lang.Object');
      assert.match(thread.waitingFor, /^0x[0-9a-f]+$/);
    }
    assert.notEqual(quoted.waitingFor, long.waitingFor);
  }
});

test('JDK 25: a dump with both deadlocks (monitors, ReentrantLocks) reads as on JDK 17', () => {
  const dump = fixture('thread-dump-jdk25-two-deadlocks.txt');
  assert.match(dump, /^Full thread dump OpenJDK 64-Bit Server VM \(25\./m);
  assert.equal(threadDumpComplete(dump), true);
  const summary = parseThreadDump(dump);
  assert.deepEqual(
    summary.deadlocks.map((d) => d.threads.map((t) => `${t.name}>${t.heldBy}:${t.kind}`).sort()).sort(),
    [
      ['dvm-left>dvm-right:monitor', 'dvm-right>dvm-left:monitor'],
      ['dvm-lock-first>dvm-lock-second:synchronizer', 'dvm-lock-second>dvm-lock-first:synchronizer'],
    ],
  );
  assert.ok(summary.daemonCount > 0 && summary.threadCount > summary.daemonCount);
  assert.equal(summary.states.BLOCKED, 2);
});

test('the end of a dump alone (from any line of its threads) is read like the whole: whole or not, and its deadlocks', () => {
  const dump = fixture('thread-dump-jdk17-odd-names-deadlock.txt');
  const fromThreads = dump.slice(dump.indexOf('"quote":'));
  assert.equal(threadDumpComplete(fromThreads), true);
  assert.deepEqual(parseDeadlocks(fromThreads), parseThreadDump(dump).deadlocks);
  assert.equal(threadDumpComplete(fromThreads.slice(0, fromThreads.indexOf('Found 1 deadlock.'))), false);
});
