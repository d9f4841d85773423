import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { jcmdReason } from './exit.ts';
import { jcmdAnswerComplete, parseThreadDump, threadDumpComplete } from './parse.ts';

// Text captured from `jcmd PID Thread.print -l` and failed jcmd runs on OpenJDK 17.0.15 (test/fixtures/jvm/*.txt).
const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/jvm/${name}`, import.meta.url), 'utf8');
const TWO_DEADLOCKS = fixture('thread-dump-two-deadlocks.txt'); // DvmDeadlockFixture: monitors and ReentrantLocks
const ONE_LOCK_DEADLOCK = fixture('thread-dump-one-lock-deadlock.txt'); // two threads on two ReentrantLocks
const NO_DEADLOCK = fixture('thread-dump-no-deadlock.txt');

test('parseThreadDump reads both deadlocks jcmd found: one on ReentrantLocks (ownable synchronizers), one on monitors', () => {
  assert.match(TWO_DEADLOCKS, /^Found 2 deadlocks\.$/m);
  const { deadlocks } = parseThreadDump(TWO_DEADLOCKS);
  assert.equal(deadlocks.length, 2);
  const byFirst = Object.fromEntries(deadlocks.map((d) => [d.threads[0].name, d]));
  assert.deepEqual(byFirst['dvm-lock-first'].threads, [
    {
      name: 'dvm-lock-first',
      waitingFor: '0x00000000fc0de668',
      kind: 'synchronizer',
      lockClass: 'java.util.concurrent.locks.ReentrantLock$NonfairSync',
      heldBy: 'dvm-lock-second',
    },
    {
      name: 'dvm-lock-second',
      waitingFor: '0x00000000fc0de638',
      kind: 'synchronizer',
      lockClass: 'java.util.concurrent.locks.ReentrantLock$NonfairSync',
      heldBy: 'dvm-lock-first',
    },
  ]);
  const monitors = deadlocks.find((d) => d.threads.some((t) => t.name === 'dvm-left'));
  assert.deepEqual(monitors?.threads.map((t) => [t.name, t.kind, t.lockClass, t.heldBy]).sort(), [
    ['dvm-left', 'monitor', 'java.lang.Object', 'dvm-right'],
    ['dvm-right', 'monitor', 'java.lang.Object', 'dvm-left'],
  ]);
  assert.ok(monitors?.threads.every((t) => /^0x[0-9a-f]+$/.test(t.waitingFor)));
});

test('parseThreadDump reads a lone ReentrantLock deadlock ("Found 1 deadlock."), and none where jcmd found none', () => {
  const { deadlocks } = parseThreadDump(ONE_LOCK_DEADLOCK);
  assert.deepEqual(
    deadlocks.map((d) => d.threads.map((t) => `${t.name}>${t.heldBy}:${t.kind}`)),
    [['lock-A>lock-B:synchronizer', 'lock-B>lock-A:synchronizer']],
  );
  assert.deepEqual(parseThreadDump(NO_DEADLOCK).deadlocks, []);
});

test('parseThreadDump reads any number of deadlock reports', () => {
  // Three reports: the two of the capture, and its ReentrantLock one again; the count line says 3.
  const lockReport = /^Found one Java-level deadlock:\n=+\n"dvm-lock-first"[\s\S]*?\n\n(?=Found )/m.exec(
    TWO_DEADLOCKS,
  )?.[0];
  assert.ok(lockReport);
  const three = TWO_DEADLOCKS.replace('Found 2 deadlocks.', `${lockReport}Found 3 deadlocks.`);
  assert.equal(parseThreadDump(three).deadlocks.length, 3);
  assert.equal(threadDumpComplete(three), true);
});

test('threadDumpComplete: whole captured dumps are complete; a dump cut anywhere is not', () => {
  for (const dump of [TWO_DEADLOCKS, ONE_LOCK_DEADLOCK, NO_DEADLOCK])
    assert.equal(threadDumpComplete(dump), true);
  // Cut in the middle of the threads (what a JVM killed mid-dump leaves jcmd, which prints it and exits 0).
  const middle = NO_DEADLOCK.slice(0, Math.floor(NO_DEADLOCK.length / 2));
  assert.ok(parseThreadDump(middle).threadCount > 0, 'the cut dump still has threads to count');
  assert.equal(threadDumpComplete(middle), false);
  // Cut right before the closing line, and cut in the deadlock reports that follow it.
  assert.equal(threadDumpComplete(NO_DEADLOCK.slice(0, NO_DEADLOCK.indexOf('JNI global refs'))), false);
  const inReports = TWO_DEADLOCKS.indexOf('Java stack information');
  assert.equal(threadDumpComplete(TWO_DEADLOCKS.slice(0, inReports)), false);
  assert.equal(threadDumpComplete(TWO_DEADLOCKS.slice(0, TWO_DEADLOCKS.indexOf('Found 2 deadlocks'))), false);
  // A count that does not match the reports (one report lost) is not whole either.
  assert.equal(threadDumpComplete(TWO_DEADLOCKS.replace('Found 2 deadlocks.', 'Found 3 deadlocks.')), false);
  assert.equal(threadDumpComplete(''), false);
  assert.equal(threadDumpComplete('4242:\n'), false);
  // JDK 8 closes the list with "JNI global references: N".
  assert.equal(threadDumpComplete('1:\nFull thread dump\n\nJNI global references: 7\n\n'), true);
});

test('jcmdAnswerComplete: the answers jvm.status reads, whole and cut short', () => {
  const whole: [string, string][] = [
    ['VM.version', '28696:\nOpenJDK 64-Bit Server VM version 17.0.15+6-Debian-1deb12u1\nJDK 17.0.15\n'],
    ['VM.uptime', '28696:\n7.729 s\n'],
    [
      'GC.heap_info',
      '28696:\n garbage-first heap   total 32768K, used 1193K [0x00000000fe000000, 0x0000000100000000)\n  region size 1024K, 1 young (1024K), 0 survivors (0K)\n Metaspace       used 79K, committed 320K, reserved 1114112K\n  class space    used 3K, committed 128K, reserved 1048576K\n',
    ],
    ['VM.flags', '28696:\n-XX:CICompilerCount=2 -XX:MaxHeapSize=67108864 -XX:+UseSerialGC \n'],
    [
      'PerfCounter.print',
      '28696:\nsun.gc.collector.0.invocations=3\nsun.os.hrt.frequency=1000000000\nsun.rt.safepoints=3\n',
    ],
  ];
  for (const [command, output] of whole) {
    assert.equal(jcmdAnswerComplete(command, output), true, command);
    assert.equal(jcmdAnswerComplete(command, '28696:\n'), false, `${command}: only the pid line`);
    assert.equal(jcmdAnswerComplete(command, output.slice(0, -3)), false, `${command}: cut in its last line`);
  }
  // Cut at a line end before its Metaspace line: JDK 8–24 (heap lines indented one space) always print it, JDK 25
  // (unindented) no longer does there, so there the heap's first line is what it always prints.
  assert.equal(jcmdAnswerComplete('GC.heap_info', whole[2][1].split(' Metaspace')[0]), false);
  assert.equal(
    jcmdAnswerComplete(
      'GC.heap_info',
      '1:\ngarbage-first heap   total reserved 65536K, committed 65536K, used 2190K\n',
    ),
    true,
  );
  assert.equal(jcmdAnswerComplete('GC.heap_info', '28696:\n garbage-first heap   total 32768K,\n'), false);
  assert.equal(jcmdAnswerComplete('PerfCounter.print', '1:\nsun.gc.collector.0.invocations=3\n'), false);
});

test("jcmdReason gives jcmd's exception line, never its stack frames (captured failures of a JVM killed mid-attach)", () => {
  const cases: [string, string][] = [
    ['jcmd-connection-reset.txt', 'java.io.IOException: Connection reset by peer'],
    ['jcmd-premature-eof.txt', 'java.io.IOException: Premature EOF'],
    ['jcmd-no-such-process.txt', 'java.io.IOException: No such process'],
  ];
  for (const [name, reason] of cases) {
    const text = fixture(name);
    assert.match(text, /^\tat /m, `${name} has stack frames`);
    assert.equal(jcmdReason(text), reason);
  }
  // A dump cut short followed by the exception jcmd printed on stderr: the exception, not a line of the dump.
  assert.equal(
    jcmdReason(
      `${NO_DEADLOCK.slice(0, 2000)}\n${fixture('jcmd-connection-reset.txt').split('\n').slice(1).join('\n')}`,
    ),
    'java.io.IOException: Connection reset by peer',
  );
  assert.equal(jcmdReason('1:\nsome plain failure\n'), 'some plain failure');
  assert.equal(jcmdReason(''), 'no output');
});
