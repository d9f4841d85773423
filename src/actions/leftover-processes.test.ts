import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeftoverProcesses } from './leftover-processes.ts';
import { createLogFile } from './log-file.ts';
import { runProcess } from './process.ts';
import { processRunning, tempDir, testContext } from './testing.ts';

// Polls `check` every 50 ms for up to 10 s (a loaded machine is slow, not wrong).
async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting: ${what}`);
}

// A test that fails midway must not leave its background processes behind.
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone, as it should be.
  }
}

test('a background process a command leaves running is adopted, and stopped with SIGTERM when asked', async (t) => {
  const dir = tempDir();
  t.after(dir.remove);
  const leftovers = new LeftoverProcesses();
  t.after(() => leftovers.stopAll(100));
  const log = createLogFile(join(dir.path, 'task.log'));
  const pidFile = join(dir.path, 'pid');
  await runProcess(
    ['sh', '-c', 'sleep 30 & echo $! > "$1"; echo started', 'sh', pidFile],
    testContext({ leftovers }),
    {
      log,
    },
  );
  await log.close();
  const sleeper = Number(readFileSync(pidFile, 'utf8'));
  t.after(() => killQuietly(sleeper));
  assert.ok(processRunning(sleeper), 'the background sleep outlives its command');
  assert.equal(leftovers.groups.length, 1);
  assert.equal(leftovers.groups[0].logPath, log.path);

  const stopped = await leftovers.stopAll();
  assert.deepEqual(
    stopped.map((s) => s.outcome),
    ['SIGTERM'],
  );
  assert.ok(!processRunning(sleeper), 'stopAll ended it');
  assert.equal(leftovers.groups.length, 0);
  assert.match(
    readFileSync(log.path, 'utf8'),
    /^started\n\[dvm: the run ended; stopped the background processes this task left running \(they ended on SIGTERM\)\]\n$/,
  );
});

test('a command that leaves nothing running is not adopted', async (t) => {
  const leftovers = new LeftoverProcesses();
  t.after(() => leftovers.stopAll(100));
  await runProcess(['sh', '-c', 'sleep 0.05 & wait'], testContext({ leftovers }));
  assert.equal(leftovers.groups.length, 0);
  assert.deepEqual(await leftovers.stopAll(), []);
});

test('a background process that ignores SIGTERM is killed after the grace', async (t) => {
  const dir = tempDir();
  t.after(dir.remove);
  const leftovers = new LeftoverProcesses();
  t.after(() => leftovers.stopAll(100));
  const pidFile = join(dir.path, 'pid');
  await runProcess(
    [
      'sh',
      '-c',
      'sh -c \'trap "" TERM; touch "$1.ready"; while :; do sleep 0.05; done\' sh "$1" & echo $! > "$1"',
      'sh',
      pidFile,
    ],
    testContext({ leftovers }),
  );
  const stubborn = Number(readFileSync(pidFile, 'utf8'));
  t.after(() => killQuietly(stubborn));
  await waitFor(() => existsSync(`${pidFile}.ready`), 'the trap is installed');
  const stopped = await leftovers.stopAll(300);
  assert.deepEqual(
    stopped.map((s) => s.outcome),
    ['SIGKILL'],
  );
  assert.ok(!processRunning(stubborn));
});

test('a group whose id now belongs to another process is left alone (the pid was reused)', async (t) => {
  // A live group leader stands in for a process that got the number of a group that ended.
  const other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  t.after(() => other.kill('SIGKILL'));
  await new Promise((resolve) => other.once('spawn', resolve));
  const leftovers = new LeftoverProcesses();
  t.after(() => leftovers.stopAll(100));
  leftovers.adopt({ pgid: other.pid as number, label: 'reused' });
  assert.deepEqual(await leftovers.stopAll(200), []);
  assert.ok(processRunning(other.pid as number), 'the other process was not signalled');
});

test('a background process writing into the log is kept under the cap until it is stopped', async (t) => {
  const dir = tempDir();
  t.after(dir.remove);
  const leftovers = new LeftoverProcesses();
  t.after(() => leftovers.stopAll(100));
  const log = createLogFile(join(dir.path, 'noisy.log'), { maxBytes: 1000 });
  await runProcess(
    // `first` before the loop starts: started first, the loop could write before it.
    ['sh', '-c', 'echo first; (while :; do echo 0123456789; done) &'],
    testContext({ leftovers }),
    {
      log,
    },
  );
  await log.close();
  const note = '\n[dvm: log truncated at 1000 bytes]\n';
  // The cap is checked every second while it writes.
  await waitFor(
    () => readFileSync(log.path, 'utf8').indexOf(note) === 1000,
    'cut at the cap while it still runs',
  );
  const stopped = await leftovers.stopAll();
  assert.equal(stopped.length, 1);
  const text = readFileSync(log.path, 'utf8');
  assert.ok(text.startsWith('first\n0123456789\n'));
  assert.equal(text.indexOf(note), 1000, 'cut exactly at the cap');
  assert.ok(text.endsWith('(they ended on SIGTERM)]\n'), text.slice(-200));
  assert.ok(
    text.length <= 1000 + note.length + 200,
    `the log stays capped after the stop (${text.length} bytes)`,
  );
});

test('the log of a command that printed nothing is kept while its background process writes into it', async (t) => {
  const dir = tempDir();
  t.after(dir.remove);
  const leftovers = new LeftoverProcesses();
  t.after(() => leftovers.stopAll(100));
  const log = createLogFile(join(dir.path, 'quiet.log'));
  await runProcess(['sh', '-c', '(sleep 0.2; echo later; sleep 30) &'], testContext({ leftovers }), { log });
  await log.close();
  await waitFor(() => existsSync(log.path) && readFileSync(log.path, 'utf8') === 'later\n', 'it wrote later');
  await leftovers.stopAll();
  assert.match(
    readFileSync(log.path, 'utf8'),
    /^later\n\[dvm: the run ended; stopped the background processes this task left running/,
  );
});
