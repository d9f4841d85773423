import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DvmError } from '../../../errors/dvm-error.ts';
import { testContext } from '../../testing.ts';
import { jvmStatusAction } from './status.ts';
import { jvmThreadDumpAction } from './thread-dump.ts';

// The shapes of jcmd's output when the JVM dies under it (captured from real runs on OpenJDK 17, see
// test/fixtures/jvm), replayed by a fake jcmd in $JAVA_HOME/bin (jcmdPath prefers it): a dump cut short that jcmd
// exits 0 on, and a Java stack trace it exits 1 on. jvm.test.ts kills a real JVM mid-dump.

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/jvm/${name}`, import.meta.url), 'utf8');
const DUMP = fixture('thread-dump-no-deadlock.txt');
const home = mkdtempSync(join(tmpdir(), 'dvm-fake-jdk-'));
const answers = join(home, 'answers');
// A pid that runs (this process: nothing signals it) and one that has exited (a child reaped before the tests).
const alivePid = process.pid;
let exitedPid = 0;

// `jcmd -l` lists $FAKE_PID as FakeApp; `jcmd PID CMD …` prints answers/CMD and exits with answers/CMD.rc (or 0).
const FAKE_JCMD = `#!/bin/sh
if [ "$1" = "-l" ]; then echo "$FAKE_PID FakeApp"; exit 0; fi
cat "$FAKE_ANSWERS/$2"
[ -f "$FAKE_ANSWERS/$2.err" ] && cat "$FAKE_ANSWERS/$2.err" >&2
rc=0; [ -f "$FAKE_ANSWERS/$2.rc" ] && rc=$(cat "$FAKE_ANSWERS/$2.rc")
exit "$rc"
`;

before(async () => {
  mkdirSync(join(home, 'bin'));
  mkdirSync(answers);
  writeFileSync(join(home, 'bin', 'jcmd'), FAKE_JCMD);
  chmodSync(join(home, 'bin', 'jcmd'), 0o755);
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  exitedPid = child.pid as number;
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
});

after(() => rmSync(home, { recursive: true, force: true }));

// Sets what the fake jcmd answers to each command (text, or [text, exit code]; `COMMAND.err`: what it then prints on
// stderr).
function answer(byCommand: Record<string, string | [string, number]>): void {
  rmSync(answers, { recursive: true, force: true });
  mkdirSync(answers);
  for (const [command, value] of Object.entries(byCommand)) {
    const [text, rc] = typeof value === 'string' ? [value, 0] : value;
    writeFileSync(join(answers, command), text);
    if (command.endsWith('.err')) continue;
    if (rc !== 0) writeFileSync(join(answers, `${command}.rc`), String(rc));
  }
}

const fakeContext = (pid: number) =>
  testContext({
    env: {
      ...(process.env as Record<string, string>),
      JAVA_HOME: home,
      FAKE_PID: String(pid),
      FAKE_ANSWERS: answers,
    },
  });

// No stack frame ("\tat jdk.attach/…") and no attach-permission guess in what the caller reads first.
function assertNoFrames(error: DvmError): void {
  assert.doesNotMatch(error.message, /\bat [\w$.]+\/|\tat |\n/, error.message);
}

test('fake jcmd: a whole dump succeeds; the same dump cut in the middle (exit 0) of a JVM that exited is DVM_TARGET_NOT_FOUND', async () => {
  answer({ 'Thread.print': DUMP });
  const whole = await jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid));
  assert.equal(whole.summary.threadCount, 12);
  assert.equal(whole.artifact.truncated, false);

  answer({ 'Thread.print': DUMP.slice(0, Math.floor(DUMP.length / 2)) });
  await assert.rejects(
    jvmThreadDumpAction.handler({ pid: exitedPid }, fakeContext(exitedPid)),
    (error: DvmError) => {
      assert.equal(error.code, 'DVM_TARGET_NOT_FOUND');
      assert.equal(error.message, `the JVM (pid ${exitedPid}) exited during the dump`);
      return true;
    },
  );
});

test('fake jcmd: a dump cut short (exit 0) while the JVM still runs is DVM_TASK_FAILED saying it is incomplete', async () => {
  const cut = DUMP.slice(0, DUMP.indexOf('JNI global refs'));
  answer({ 'Thread.print': cut });
  await assert.rejects(
    jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid)),
    (error: DvmError) => {
      assert.equal(error.code, 'DVM_TASK_FAILED');
      assert.match(
        error.message,
        new RegExp(`^the thread dump of the JVM \\(pid ${alivePid}\\) is incomplete`),
      );
      assert.match(error.message, /JNI global refs/);
      assert.ok(String(error.details.output).length <= 4200, 'the raw text in details is cut to a few KB');
      return true;
    },
  );
});

test("fake jcmd: jcmd's stack trace (exit 1) for a JVM that exited is DVM_TARGET_NOT_FOUND with the exception line, no frames", async () => {
  for (const name of ['jcmd-connection-reset.txt', 'jcmd-premature-eof.txt', 'jcmd-no-such-process.txt']) {
    const text = fixture(name);
    answer({ 'Thread.print': [text, 1] });
    await assert.rejects(
      jvmThreadDumpAction.handler({ pid: exitedPid }, fakeContext(exitedPid)),
      (error: DvmError) => {
        assert.equal(error.code, 'DVM_TARGET_NOT_FOUND', `${name}: ${error.message}`);
        assert.match(
          error.message,
          new RegExp(
            `^the JVM \\(pid ${exitedPid}\\) exited during the dump \\(jcmd: java\\.io\\.IOException: `,
          ),
        );
        assertNoFrames(error);
        assert.doesNotMatch(error.fix ?? '', /attach/);
        assert.equal(error.details.output, text, 'the raw text goes in details');
        return true;
      },
    );
  }
});

test("fake jcmd: jcmd's stack trace (exit 1) while the JVM still runs is DVM_TASK_FAILED with the exception line, no frames", async () => {
  answer({ 'Thread.print': [fixture('jcmd-connection-reset.txt'), 1] });
  await assert.rejects(
    jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid)),
    (error: DvmError) => {
      assert.equal(error.code, 'DVM_TASK_FAILED');
      assert.equal(
        error.message,
        `jcmd ${alivePid} Thread.print -l failed: java.io.IOException: Connection reset by peer`,
      );
      assertNoFrames(error);
      assert.match(error.fix ?? '', /connection to the JVM broke off/);
      return true;
    },
  );
});

test('fake jcmd: jvm.status with an answer cut short is DVM_TARGET_NOT_FOUND when the JVM exited, else DVM_TASK_FAILED', async () => {
  const whole = {
    'VM.version': '1:\nOpenJDK 64-Bit Server VM version 17.0.15+6-Debian-1deb12u1\nJDK 17.0.15\n',
    'VM.uptime': '1:\n7.729 s\n',
    'GC.heap_info':
      '1:\n def new generation   total 19648K, used 3430K [0x0, 0x1, 0x2)\n tenured generation   total 43712K, used 0K [0x0, 0x1, 0x2)\n Metaspace       used 79K, committed 320K, reserved 1114112K\n',
    'VM.flags': '1:\n-XX:MaxHeapSize=67108864 -XX:+UseSerialGC \n',
    'PerfCounter.print': '1:\nsun.gc.collector.0.invocations=2\nsun.os.hrt.frequency=1000000000\n',
  };
  answer(whole);
  const ok = await jvmStatusAction.handler({ pid: alivePid }, fakeContext(alivePid));
  assert.equal(ok.summary.heap.usedBytes, 3430 * 1024);
  // The heap answer cut in its first line: the heap figures would be short.
  answer({ ...whole, 'GC.heap_info': '1:\n def new generation   total 19648K, us' });
  await assert.rejects(jvmStatusAction.handler({ pid: exitedPid }, fakeContext(exitedPid)), {
    code: 'DVM_TARGET_NOT_FOUND',
    message: `the JVM (pid ${exitedPid}) exited during jvm.status`,
  });
  await assert.rejects(jvmStatusAction.handler({ pid: alivePid }, fakeContext(alivePid)), {
    code: 'DVM_TASK_FAILED',
    message: new RegExp(`^jcmd GC\\.heap_info of the JVM \\(pid ${alivePid}\\) is incomplete`),
  });
  // jcmd failing on one answer because the JVM died: the JVM exited, not a stack trace.
  answer({ ...whole, 'VM.uptime': [fixture('jcmd-premature-eof.txt'), 1] });
  await assert.rejects(
    jvmStatusAction.handler({ pid: exitedPid }, fakeContext(exitedPid)),
    (error: DvmError) => {
      assert.equal(error.code, 'DVM_TARGET_NOT_FOUND');
      assert.match(
        error.message,
        /exited during jcmd VM\.uptime \(jcmd: java\.io\.IOException: Premature EOF\)$/,
      );
      assertNoFrames(error);
      return true;
    },
  );
});

test('fake jcmd: jvm.status of JDK 25 (captured answers: no Metaspace line in GC.heap_info, unindented heap lines) succeeds', async () => {
  const captured = (command: string) => fixture(`status/jdk25-g1.${command}.txt`);
  answer(
    Object.fromEntries(
      ['VM.version', 'VM.uptime', 'GC.heap_info', 'VM.flags', 'PerfCounter.print'].map((c) => [
        c,
        captured(c),
      ]),
    ),
  );
  const { summary } = await jvmStatusAction.handler({ pid: alivePid }, fakeContext(alivePid));
  assert.equal(summary.version, '25.0.3');
  assert.equal(summary.gc.collector, 'G1');
  assert.deepEqual(summary.heap, {
    usedBytes: 2190 * 1024,
    committedBytes: 65536 * 1024,
    maxBytes: 67108864,
  });
  assert.equal(summary.gc.collectors?.length, 3);
});

// A real dump (JDK 17, two deadlocks) with idle threads added until it is over dvm's 64 MiB cap on jcmd output:
// the deadlock reports at its end come after the cap.
function dumpOverTheCap(): string {
  const whole = fixture('thread-dump-two-deadlocks.txt');
  const sleeper = /^"dvm-sleeper" #16 [\s\S]*?\n\n {3}Locked ownable synchronizers:\n\t- None\n\n/m.exec(
    whole,
  )?.[0];
  assert.ok(sleeper);
  const copies = Math.ceil((65 * 1024 * 1024) / sleeper.length);
  const idle = Array.from({ length: copies }, (_, i) =>
    sleeper.replace('"dvm-sleeper" #16 ', `"dvm-idle-${i}" #${1000 + i} daemon `),
  ).join('');
  const at = whole.indexOf('"Attach Listener"');
  return whole.slice(0, at) + idle + whole.slice(at);
}

test('fake jcmd: a dump over the 64 MiB cap still reports the deadlocks at its end, and says it was not read whole', async () => {
  const dump = dumpOverTheCap();
  assert.ok(Buffer.byteLength(dump) > 64 * 1024 * 1024);
  answer({ 'Thread.print': dump });
  const { summary, artifact } = await jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid));
  assert.deepEqual(
    summary.deadlocks.map((d) => d.threads.map((t) => `${t.name}>${t.heldBy}`).sort()).sort(),
    [
      ['dvm-left>dvm-right', 'dvm-right>dvm-left'],
      ['dvm-lock-first>dvm-lock-second', 'dvm-lock-second>dvm-lock-first'],
    ],
  );
  assert.equal(summary.complete, false);
  assert.match(
    summary.reason ?? '',
    new RegExp(`^the dump \\(${Buffer.byteLength(dump)} bytes\\) is over dvm's 64 MiB`),
  );
  // The counts are of the threads in the first 64 MiB: fewer than the dump has, and said so.
  assert.ok(
    summary.threadCount > 100_000 && summary.threadCount < (dump.match(/^"dvm-idle-/gm)?.length ?? 0),
  );
  assert.match(artifact.content, /^Full thread dump/m);

  // The same dump cut short past the cap (the JVM died in the middle of its idle threads): not a dump. The error
  // gives the size of all jcmd printed, not of the end dvm kept.
  const cut = dump.slice(0, dump.indexOf('"Attach Listener"') - 5000);
  answer({ 'Thread.print': cut });
  await assert.rejects(jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid)), {
    code: 'DVM_TASK_FAILED',
    message: new RegExp(
      `^the thread dump of the JVM \\(pid ${alivePid}\\) is incomplete: jcmd's output \\(${Buffer.byteLength(cut)} bytes\\)`,
    ),
  });

  // A whole dump over the cap followed by a line jcmd prints on stderr: the end read is stdout's, still whole.
  answer({ 'Thread.print': dump, 'Thread.print.err': 'Warning: something jcmd says on stderr\n' });
  const withStderr = await jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid));
  assert.equal(withStderr.summary.deadlocks.length, 2);
  assert.match(withStderr.summary.reason ?? '', /^the dump \(\d+ bytes\) is over dvm's 64 MiB cap/);
});

test('fake jcmd: a whole dump over the cap whose deadlock reports are longer than the 1 MiB end kept is read, not failed', async () => {
  // The reports of dumpOverTheCap's two deadlocks, repeated until they are 2 MiB long, and the count to match.
  const over = dumpOverTheCap();
  const at = over.indexOf('Found one Java-level deadlock:');
  const reports = over.slice(at, over.indexOf('Found 2 deadlocks.'));
  const times = Math.ceil((2 * 1024 * 1024) / reports.length);
  const dump = `${over.slice(0, at)}${reports.repeat(times)}Found ${2 * times} deadlocks.\n`;
  answer({ 'Thread.print': dump });
  const { summary } = await jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid));
  assert.equal(summary.complete, false);
  assert.match(
    summary.reason ?? '',
    new RegExp(
      `^the dump \\(${Buffer.byteLength(dump)} bytes\\) is over dvm's 64 MiB cap.*; jcmd found ${2 * times} deadlock\\(s\\), and its reports are longer than that last 1 MiB: not all deadlocks were read`,
    ),
  );
  // The reports whole in the last 1 MiB: some, not all.
  assert.ok(
    summary.deadlocks.length > 0 && summary.deadlocks.length < 2 * times,
    String(summary.deadlocks.length),
  );
  assert.ok(
    summary.deadlocks.every((d) => d.threads.length === 2 && d.threads.every((t) => t.heldBy !== '')),
  );

  // The same dump cut in its reports (no count line at its end): not a dump.
  const cut = dump.slice(0, dump.length - 5000);
  answer({ 'Thread.print': cut });
  await assert.rejects(jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid)), {
    code: 'DVM_TASK_FAILED',
    message: new RegExp(`is incomplete: jcmd's output \\(${Buffer.byteLength(cut)} bytes\\)`),
  });
});

test('fake jcmd: a whole dump under the cap is complete', async () => {
  answer({ 'Thread.print': fixture('thread-dump-jdk25-two-deadlocks.txt') });
  const { summary } = await jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid));
  assert.equal(summary.complete, true);
  assert.equal(summary.reason, undefined);
  assert.equal(summary.deadlocks.length, 2);
});

test('fake jcmd: a dump with a thread name that holds a newline is complete: false with the reason, never failed nor a silent fake', async () => {
  const doubt =
    /a thread's name holds a newline \(jcmd prints names as they are\): threadCount, daemonCount, states and deadlocks may be misread/;
  for (const jdk of ['jdk17', 'jdk25']) {
    // hide: the name's lines imitate the closing line, which hides the deadlock report's structure.
    answer({ 'Thread.print': fixture(`thread-dump-${jdk}-name-hide.txt`) });
    const hide = await jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid));
    assert.equal(hide.summary.complete, false, jdk);
    assert.match(hide.summary.reason ?? '', doubt, jdk);
    // fakedl: the name spells a deadlock report: the list is kept as read, and the reason says it may be wrong.
    answer({ 'Thread.print': fixture(`thread-dump-${jdk}-name-fakedl.txt`) });
    const fakedl = await jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid));
    assert.equal(fakedl.summary.complete, false, jdk);
    assert.match(fakedl.summary.reason ?? '', doubt, jdk);
    // The earlier odd names (whole by their structure): doubtful too.
    answer({ 'Thread.print': fixture(`thread-dump-${jdk}-odd-names.txt`) });
    const odd = await jvmThreadDumpAction.handler({ pid: alivePid }, fakeContext(alivePid));
    assert.equal(odd.summary.complete, false, jdk);
    assert.match(odd.summary.reason ?? '', new RegExp(`^${doubt.source}$`), jdk);
  }
});
