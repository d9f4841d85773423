import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { requireService } from '../../../../test/support/require-service.ts';
import type { DvmError } from '../../../errors/dvm-error.ts';
import { testContext } from '../../testing.ts';
import { parseGcCounters, parseHeap, parseThreadDump } from './parse.ts';
import { jvmStatusAction } from './status.ts';
import { canonicalJvm, mainClassOf } from './target.ts';
import { jvmThreadDumpAction } from './thread-dump.ts';

const FIXTURE = new URL('../../../../test/fixtures/jvm/DvmDeadlockFixture.java', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'dvm-jvm-'));
let jvm: ChildProcess;

// A JDK (javac, java, jcmd) is a service like the others: CI has one; elsewhere these tests skip without it.
let jdk = true;
try {
  execFileSync('javac', ['-version'], { stdio: 'ignore' });
  execFileSync('jcmd', ['-h'], { stdio: 'ignore' });
} catch {
  jdk = false;
}
const needsJdk = async (t: import('node:test').TestContext) =>
  requireService(t, 'A JDK (javac, jcmd)', async () => jdk, 'apt-get install default-jdk-headless');

before(async () => {
  if (!jdk) return;
  execFileSync('javac', ['-d', dir, FIXTURE]);
  jvm = spawn('java', ['-XX:+UseSerialGC', '-Xmx64m', '-cp', dir, 'DvmDeadlockFixture'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fixture JVM did not print ready')), 20_000);
    jvm.stdout?.on('data', (d) => {
      if (String(d).includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
});

after(() => {
  jvm?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('jvm.status finds the JVM by pid and by main class, with version, uptime, heap, collector and its collections', async (t) => {
  if (!(await needsJdk(t))) return;
  const byPid = await jvmStatusAction.handler({ pid: jvm.pid }, testContext());
  assert.equal(byPid.summary.mainClass, 'DvmDeadlockFixture');
  assert.match(byPid.summary.version ?? '', /^\d+\./);
  assert.equal(byPid.summary.gc.collector, 'Serial');
  assert.ok((byPid.summary.uptimeSeconds ?? 0) > 0);
  assert.ok(
    byPid.summary.heap.usedBytes > 0 && byPid.summary.heap.committedBytes >= byPid.summary.heap.usedBytes,
  );
  assert.equal(byPid.summary.heap.maxBytes, 64 * 1024 * 1024);
  assert.match(byPid.artifact.content, /def new generation/);
  // Collections and pause time from the JVM's performance counters: one entry per collector, totals that add up.
  const { gc } = byPid.summary;
  assert.ok((gc.collectors ?? []).length >= 2, JSON.stringify(gc));
  assert.ok(gc.collectors?.every((c) => c.name !== '' && c.count >= 0 && c.timeMs >= 0));
  assert.equal(
    gc.collections,
    gc.collectors?.reduce((sum, c) => sum + c.count, 0),
  );
  assert.match(byPid.artifact.content, /^sun\.gc\.collector\.0\.invocations=\d+$/m);
  const byClass = await jvmStatusAction.handler({ mainClass: 'DvmDeadlockFixture' }, testContext());
  assert.equal(byClass.summary.pid, jvm.pid);
});

test('jvm.thread_dump reports both deadlocks (on monitors and on ReentrantLocks) with their threads, and the thread states', async (t) => {
  if (!(await needsJdk(t))) return;
  const { summary, artifact } = await jvmThreadDumpAction.handler({ pid: jvm.pid }, testContext());
  assert.match(artifact.content, /^Found 2 deadlocks\.$/m);
  assert.equal(summary.deadlocks.length, 2);
  const pairs = summary.deadlocks
    .map((d) => d.threads.map((t) => `${t.name}>${t.heldBy}:${t.kind}`).sort())
    .sort();
  assert.deepEqual(pairs, [
    ['dvm-left>dvm-right:monitor', 'dvm-right>dvm-left:monitor'],
    ['dvm-lock-first>dvm-lock-second:synchronizer', 'dvm-lock-second>dvm-lock-first:synchronizer'],
  ]);
  const first = summary.deadlocks.flatMap((d) => d.threads).find((t) => t.name === 'dvm-lock-first');
  assert.equal(first?.lockClass, 'java.util.concurrent.locks.ReentrantLock$NonfairSync');
  assert.ok((summary.states.BLOCKED ?? 0) >= 2);
  assert.ok((summary.states.WAITING ?? 0) >= 2, 'the threads parked on the ReentrantLocks');
  assert.ok((summary.states.TIMED_WAITING ?? 0) >= 1);
  assert.ok(summary.threadCount > summary.daemonCount && summary.daemonCount > 0);
  assert.match(artifact.content, /Full thread dump/);
  // The parser agrees with itself on the raw dump it returned.
  assert.deepEqual(parseThreadDump(artifact.content).deadlocks, summary.deadlocks);

  const capped = await jvmThreadDumpAction.handler({ pid: jvm.pid }, testContext({ maxOutputBytes: 200 }));
  assert.equal(capped.artifact.truncated, true);
  assert.ok(capped.artifact.bytes <= 200 && capped.artifact.totalBytes > 200);
  assert.match(capped.artifact.content, /Full thread dump/, 'the head is kept');
  assert.equal(capped.summary.deadlocks.length, 2, 'the summary reads the whole dump');
});

test('an unknown JVM is DVM_TARGET_NOT_FOUND listing what runs; a missing jcmd is DVM_CONNECTOR_UNAVAILABLE', async (t) => {
  if (!(await needsJdk(t))) return;
  await assert.rejects(jvmStatusAction.handler({ pid: 999_999 }, testContext()), {
    code: 'DVM_TARGET_NOT_FOUND',
    message: /DvmDeadlockFixture/,
  });
  await assert.rejects(jvmStatusAction.handler({ mainClass: 'NoSuchMain' }, testContext()), {
    code: 'DVM_TARGET_NOT_FOUND',
  });
  await assert.rejects(jvmStatusAction.handler({}, testContext()), { code: 'DVM_ACTION_INPUT_INVALID' });
  await assert.rejects(
    jvmStatusAction.handler({ pid: jvm.pid }, testContext({ env: { PATH: '/nonexistent' } })),
    {
      code: 'DVM_CONNECTOR_UNAVAILABLE',
    },
  );
});

test('a pid with a mainClass it does not run is DVM_TARGET_NOT_FOUND naming the class it runs; a matching pair runs', async (t) => {
  if (!(await needsJdk(t))) return;
  for (const action of [jvmStatusAction, jvmThreadDumpAction] as const) {
    await assert.rejects(
      action.handler({ pid: jvm.pid, mainClass: 'com.example.OtherApp' }, testContext()),
      (error: DvmError) => {
        assert.equal(error.code, 'DVM_TARGET_NOT_FOUND', `${action.name}: ${error.message}`);
        assert.match(
          error.message,
          new RegExp(`^pid ${jvm.pid} runs DvmDeadlockFixture, not com\\.example\\.OtherApp;`),
        );
        assert.match(error.fix ?? '', /pid alone, the mainClass alone/);
        return true;
      },
    );
  }
  // The class, or a suffix of it, that the pid does run: the pair names one JVM.
  const pair = await jvmStatusAction.handler(
    { pid: jvm.pid, mainClass: 'DvmDeadlockFixture' },
    testContext(),
  );
  assert.deepEqual([pair.summary.pid, pair.summary.mainClass], [jvm.pid, 'DvmDeadlockFixture']);
});

test('an aborted signal stops a jvm action promptly', async (t) => {
  if (!(await needsJdk(t))) return;
  const controller = new AbortController();
  controller.abort();
  const started = Date.now();
  await assert.rejects(
    jvmThreadDumpAction.handler({ pid: jvm.pid }, testContext({ signal: controller.signal })),
  );
  assert.ok(Date.now() - started < 1000);
});

test('heap parsing sums G1 and generational layouts', () => {
  assert.deepEqual(
    parseHeap(
      '1:\n garbage-first heap   total 262144K, used 10240K [0x0, 0x1)\n  region size 1024K\n Metaspace       used 100K, committed 200K',
    ),
    {
      usedBytes: 10240 * 1024,
      committedBytes: 262144 * 1024,
      metaspaceUsedBytes: 100 * 1024,
    },
  );
});

test('a program run from source (java App.java) is found by its class, not by the JDK launcher jcmd lists', async (t) => {
  if (!(await needsJdk(t))) return;
  const source = spawn('java', ['-Xmx32m', FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the source-launched JVM did not print ready')),
        30_000,
      );
      source.stdout?.on('data', (d) => {
        if (String(d).includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const byPid = await jvmStatusAction.handler({ pid: source.pid }, testContext());
    assert.equal(byPid.summary.mainClass, 'DvmDeadlockFixture');
    // Two JVMs run that class now: the compiled one of this file and this one.
    await assert.rejects(
      jvmStatusAction.handler({ mainClass: 'DvmDeadlockFixture' }, testContext()),
      /DVM_AMBIGUOUS|2 JVMs run DvmDeadlockFixture/,
    );
  } finally {
    source.kill('SIGKILL');
  }
});

test('mainClassOf reads a jcmd -l line: the first word, or the file a source launcher runs', () => {
  assert.equal(mainClassOf('com.example.App', undefined), 'com.example.App');
  assert.equal(mainClassOf('/opt/app/app.jar', '--port=1'), '/opt/app/app.jar');
  assert.equal(mainClassOf('jdk.compiler/com.sun.tools.javac.launcher.Main', '/x/Hello.java'), 'Hello');
  assert.equal(
    mainClassOf('jdk.compiler/com.sun.tools.javac.launcher.SourceLauncher', 'Hello.java'),
    'Hello',
  );
  assert.equal(
    mainClassOf('jdk.compiler/com.sun.tools.javac.launcher.Main', '--flag'),
    'jdk.compiler/com.sun.tools.javac.launcher.Main',
  );
  assert.equal(mainClassOf('', undefined), '(unknown)');
});

test("jvm.status on a JVM never attached to leaves no thread dump in the service's stdout (its attaches do not race)", async (t) => {
  if (!(await needsJdk(t))) return;
  // Racing first attaches printed a stray full thread dump into the JVM's stdout about one time in four: six fresh JVMs.
  for (let round = 0; round < 6; round++) {
    const out = join(dir, `fresh-${round}.out`);
    const fresh = spawn('sh', ['-c', `exec java -Xmx32m -cp "$0" DvmDeadlockFixture > "$1"`, dir, out], {
      stdio: 'ignore',
    });
    try {
      const deadline = performance.now() + 20_000;
      while (!(existsSync(out) && readFileSync(out, 'utf8').includes('ready'))) {
        assert.ok(performance.now() < deadline, 'the fresh JVM did not print ready');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const { summary } = await jvmStatusAction.handler({ pid: fresh.pid }, testContext());
      assert.equal(summary.mainClass, 'DvmDeadlockFixture');
      await new Promise((resolve) => setTimeout(resolve, 200)); // a dump would be printed by now
      assert.doesNotMatch(readFileSync(out, 'utf8'), /Full thread dump/, `round ${round}`);
    } finally {
      fresh.kill('SIGKILL');
    }
  }
});

test("parseGcCounters reads each collector's name, count and pause time (ticks of sun.os.hrt.frequency)", () => {
  const output = [
    'sun.gc.collector.0.invocations=3',
    'sun.gc.collector.0.name="G1 young collection pauses"',
    'sun.gc.collector.0.time=12786310',
    'sun.gc.collector.1.invocations=0',
    'sun.gc.collector.1.name="G1 full collection pauses"',
    'sun.gc.collector.1.time=0',
    'sun.gc.policy.name="GarbageFirst"',
    'sun.os.hrt.frequency=1000000000',
  ].join('\n');
  const { collectors, lines } = parseGcCounters(output);
  assert.deepEqual(collectors, [
    { name: 'G1 young collection pauses', count: 3, timeMs: 12.786 },
    { name: 'G1 full collection pauses', count: 0, timeMs: 0 },
  ]);
  assert.equal(lines.length, 6);
  assert.deepEqual(parseGcCounters(''), { collectors: [], lines: [] });
});

test('canonicalJvm names the JVM by pid and whole main class, whichever the request gave; undefined when none answers', async (t) => {
  if (!(await needsJdk(t))) return;
  const whole = { pid: jvm.pid, mainClass: 'DvmDeadlockFixture' };
  assert.deepEqual(await canonicalJvm({ pid: jvm.pid }, testContext()), whole);
  assert.deepEqual(await canonicalJvm({ mainClass: 'DvmDeadlockFixture' }, testContext()), whole);
  assert.equal(await canonicalJvm({ pid: 999_999_999 }, testContext()), undefined);
  assert.equal(await canonicalJvm({}, testContext()), undefined);
});

test('a real JVM killed in the middle of its thread dump is DVM_TARGET_NOT_FOUND (exited), never a partial success', async (t) => {
  if (!(await needsJdk(t))) return;
  // A JVM with 3000 idle threads (a dump of about 1.5 MB), and a jcmd that runs the real one and SIGKILLs the JVM
  // once 64 KB of its dump came through: the JVM dies mid-dump, and jcmd exits 0 on the part it got or 1 with a stack
  // trace (connection reset), depending on timing.
  const real = execFileSync('sh', ['-c', 'command -v jcmd'], { encoding: 'utf8' }).trim();
  const home = join(dir, 'killing-jdk');
  mkdirSync(join(home, 'bin'), { recursive: true });
  const wrapper = join(home, 'bin', 'jcmd');
  writeFileSync(
    wrapper,
    `#!/bin/bash
set -o pipefail
if [ "$2" != Thread.print ]; then exec "$REAL_JCMD" "$@"; fi
"$REAL_JCMD" "$@" | { head -c 65536; kill -9 "$1"; cat; }
`,
  );
  chmodSync(wrapper, 0o755);
  const big = spawn('java', ['-Xss256k', '-Xmx64m', '-cp', dir, 'DvmDeadlockFixture', '3000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the JVM with 3000 threads did not print ready')),
        30_000,
      );
      big.stdout?.on('data', (d) => {
        if (String(d).includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const context = testContext({
      env: { ...(process.env as Record<string, string>), JAVA_HOME: home, REAL_JCMD: real },
    });
    await assert.rejects(jvmThreadDumpAction.handler({ pid: big.pid }, context), (error: DvmError) => {
      assert.equal(error.code, 'DVM_TARGET_NOT_FOUND', error.message);
      assert.match(error.message, new RegExp(`^the JVM \\(pid ${big.pid}\\) exited during the dump`));
      assert.doesNotMatch(error.message, /\tat |\bat [\w$.]+\/|\n/, 'no stack frames in the message');
      return true;
    });
  } finally {
    big.kill('SIGKILL');
  }
});
