import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDvmError } from '../../errors/dvm-error.ts';
import { createLogFile } from '../log-file.ts';
import { runProcess, sharedSpawnPool } from '../process.ts';
import { processRunning, tempDir, testContext } from '../testing.ts';
import { type SpawnerKind, SpawnPool } from './spawn-pool.ts';

async function untilReady(pool: SpawnPool): Promise<SpawnPool> {
  pool.warm();
  for (let i = 0; i < 200 && !pool.ready; i++) await sleep(25);
  assert.ok(pool.ready, 'a helper started');
  return pool;
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isDvmError(error), String(error));
    return { code: error.code, details: (error.details ?? {}) as Record<string, unknown> };
  }
  assert.fail('expected a failure');
}

/**
 * The pool's contract, for one kind of helper: the test file sets DVM_SPAWNER to that kind (so that runProcess's
 * shared pool is of it too) and DVM_SPAWN_HELPERS=always (every command with a log file goes through a helper).
 */
export function spawnPoolTests(kind: SpawnerKind): void {
  async function helpersReady(): Promise<void> {
    const pool = sharedSpawnPool();
    assert.ok(pool, 'helpers are on (DVM_SPAWN_HELPERS is not 0)');
    await untilReady(pool);
    assert.equal(pool.kind, kind, 'no fallback to another kind');
  }

  // A pool of its own with one helper, closed when the test ends.
  async function ownPool(t: { after(fn: () => void): void }): Promise<SpawnPool> {
    const pool = new SpawnPool(1, { kind });
    t.after(() => pool.close());
    await untilReady(pool);
    assert.equal(pool.kind, kind, 'no fallback to another kind');
    return pool;
  }

  test(`${kind}: a command started by a helper runs in its directory and environment and writes into its log`, async (t) => {
    await helpersReady();
    const dir = tempDir();
    t.after(dir.remove);
    const log = createLogFile(join(dir.path, 'task.log'));
    const pids: number[] = [];
    const context = testContext({
      workdir: dir.path,
      env: { ...(process.env as Record<string, string>), GREETING: 'hello there' },
      onSpawn: (pid) => pids.push(pid),
    });
    const result = await runProcess(
      ['sh', '-c', 'echo "$GREETING from $(pwd)"; echo oops >&2; echo "parent $PPID"'],
      context,
      { log },
    );
    await log.close();
    assert.equal(result.exitCode, 0);
    const [greeting, oops, parent] = readFileSync(log.path, 'utf8').split('\n');
    assert.deepEqual([greeting, oops], [`hello there from ${dir.path}`, 'oops']);
    assert.notEqual(parent, `parent ${process.pid}`, 'a helper started it, not this process');
    assert.equal(pids.length, 1);
    assert.ok(pids[0] > 0);
  });

  test(`${kind}: a helper reports exit codes, signals and programs that do not exist as the direct path does`, async (t) => {
    await helpersReady();
    const dir = tempDir();
    t.after(dir.remove);
    const log = (name: string) => createLogFile(join(dir.path, name));
    const exited = await failure(runProcess(['sh', '-c', 'exit 7'], testContext(), { log: log('a.log') }));
    assert.deepEqual([exited.code, exited.details.exitCode], ['DVM_TASK_FAILED', 7]);
    const killed = await failure(
      runProcess(['sh', '-c', 'kill -KILL $$'], testContext(), { log: log('b.log') }),
    );
    assert.deepEqual([killed.code, killed.details.signal], ['DVM_TASK_FAILED', 'SIGKILL']);
    const missing = await failure(runProcess(['no-such-program-dvm'], testContext(), { log: log('c.log') }));
    assert.equal(missing.code, 'DVM_EXEC_NOT_FOUND');
    const nul = await failure(runProcess(['echo', 'a\0b'], testContext(), { log: log('d.log') }));
    assert.equal(nul.code, 'DVM_ACTION_INPUT_INVALID');
  });

  test(`${kind}: a timeout stops the process group of a command a helper started`, async (t) => {
    await helpersReady();
    const dir = tempDir();
    t.after(dir.remove);
    const log = createLogFile(join(dir.path, 'slow.log'));
    const pidFile = join(dir.path, 'child.pid');
    const stopped = await failure(
      runProcess(['sh', '-c', 'sleep 30 & echo $! > "$1"; wait', 'sh', pidFile], testContext(), {
        log,
        timeoutMs: 300,
      }),
    );
    assert.equal(stopped.code, 'DVM_TIMEOUT');
    assert.ok(!processRunning(Number(readFileSync(pidFile, 'utf8'))), 'the whole group was stopped');
  });

  test(`${kind}: when a helper dies, its running commands fail as system errors and are stopped`, async (t) => {
    const pool = await ownPool(t);
    const dir = tempDir();
    t.after(dir.remove);
    const child = pool.spawn({
      argv: ['sleep', '30'],
      cwd: dir.path,
      env: process.env as Record<string, string>,
      logPath: join(dir.path, 'x.log'),
    });
    assert.ok(child);
    const error = new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    await sleep(100); // long enough for the helper to have started it and told its pid
    assert.ok(child.pid, 'the pid arrived before the end');
    const pid = child.pid;
    t.after(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    });
    pool.close();
    assert.equal((await error).code, 'EHELPER');
    assert.ok(processRunning(pid), 'the pool only reports it; runProcess stops it');
  });

  test(`${kind}: a command whose helper dies is stopped, and its task fails as a system error`, async (t) => {
    await helpersReady();
    const dir = tempDir();
    t.after(dir.remove);
    const log = createLogFile(join(dir.path, 'orphan.log'));
    const pids: number[] = [];
    const running = failure(
      runProcess(['sleep', '30'], testContext({ onSpawn: (pid) => pids.push(pid) }), { log }),
    );
    for (let i = 0; i < 100 && pids.length === 0; i++) await sleep(20);
    assert.equal(pids.length, 1, 'the helper told its pid');
    sharedSpawnPool()?.close();
    const stopped = await running;
    assert.equal(stopped.code, 'DVM_TASK_FAILED');
    assert.equal(stopped.details.origin, 'system');
    for (let i = 0; i < 50 && processRunning(pids[0]); i++) await sleep(20);
    assert.ok(!processRunning(pids[0]), 'the command was stopped');
  });

  test(`${kind}: an environment used again is sent once and named by id, and both commands see it`, async (t) => {
    const pool = await ownPool(t);
    const dir = tempDir();
    t.after(dir.remove);
    const env = { ...(process.env as Record<string, string>), SHARED: 'same env' };
    const run = (name: string) =>
      new Promise<string>((resolve, reject) => {
        const logPath = join(dir.path, name);
        const child = pool.spawn({ argv: ['sh', '-c', 'echo "$SHARED"'], cwd: dir.path, env, logPath });
        assert.ok(child);
        child.once('error', reject);
        child.once('exit', () => resolve(readFileSync(logPath, 'utf8')));
      });
    // First use travels with the spawn, the second registers it, the third uses the id.
    assert.deepEqual(await Promise.all([run('1.log'), run('2.log'), run('3.log')]), [
      'same env\n',
      'same env\n',
      'same env\n',
    ]);
  });

  test(`${kind}: helpers without a command stop after the idle time; the next command starts them again`, async (t) => {
    const pool = new SpawnPool(1, { idleStopMs: 200, kind });
    t.after(() => pool.close());
    await untilReady(pool);
    const dir = tempDir();
    t.after(dir.remove);
    const spec = {
      argv: ['true'],
      cwd: dir.path,
      env: process.env as Record<string, string>,
      logPath: join(dir.path, 'x.log'),
    };
    const exited = (child: ReturnType<SpawnPool['spawn']>) =>
      new Promise((resolve) => child?.once('exit', resolve));
    await exited(pool.spawn(spec));
    await sleep(100);
    assert.equal(pool.size, 1, 'still there within the idle time');
    await sleep(300);
    assert.equal(pool.size, 0, 'stopped after it');
    assert.equal(pool.ready, false);
    assert.equal(pool.spawn(spec), undefined, 'the caller starts this one itself while a helper starts');
    await untilReady(pool);
    assert.equal(await exited(pool.spawn(spec)), 0);
  });

  test(`${kind}: a helper outlives Ctrl-C, Ctrl-\\, a hang-up and SIGTERM sent to dvm's process group; dvm decides`, async (t) => {
    const pool = await ownPool(t);
    const dir = tempDir();
    t.after(dir.remove);
    const [pid] = pool.helperPids;
    // SIGTERM too: `timeout` and CI runners send it to the whole group, and dvm stops its commands gracefully
    // (SIGTERM, then SIGKILL after the grace); a helper that died on it would fail them at once (SIGKILL).
    for (const signal of ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTERM'] as const) process.kill(pid, signal);
    await sleep(100);
    assert.deepEqual(pool.helperPids, [pid], 'the same helper, still running');
    const logPath = join(dir.path, 'after.log');
    const child = pool.spawn({
      argv: ['sh', '-c', 'echo still here'],
      cwd: dir.path,
      env: process.env as Record<string, string>,
      logPath,
    });
    assert.ok(child);
    assert.equal(await new Promise((resolve) => child.once('exit', resolve)), 0);
    assert.equal(readFileSync(logPath, 'utf8'), 'still here\n');
  });

  test(`${kind}: a command too large to start fails alone as a user error (E2BIG), through a helper or directly`, async (t) => {
    await helpersReady();
    const dir = tempDir();
    t.after(dir.remove);
    // Linux takes at most 128 KiB per argument.
    const huge = 'x'.repeat(200 * 1024);
    const viaHelper = await failure(
      runProcess(['echo', huge], testContext(), { log: createLogFile(join(dir.path, 'big.log')) }),
    );
    // A memory log: started by this process.
    const direct = await failure(runProcess(['echo', huge], testContext()));
    for (const refused of [viaHelper, direct]) {
      assert.deepEqual(
        [refused.code, refused.details.errno, refused.details.origin],
        ['DVM_ACTION_INPUT_INVALID', 'E2BIG', 'user'],
      );
    }
    const log = createLogFile(join(dir.path, 'after.log'));
    assert.equal(
      (await runProcess(['echo', 'fine'], testContext(), { log })).exitCode,
      0,
      'the helper goes on',
    );
  });

  test(`${kind}: a log file the helper cannot open is ELOGOPEN, not a missing program`, async (t) => {
    const pool = await ownPool(t);
    const dir = tempDir();
    t.after(dir.remove);
    const child = pool.spawn({
      argv: ['true'],
      cwd: dir.path,
      env: process.env as Record<string, string>,
      logPath: join(dir.path, 'removed', 'task.log'),
    });
    assert.ok(child);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    assert.equal(error.code, 'ELOGOPEN');
    assert.match(error.message, /removed\/task\.log: .*(no such file|ENOENT)/i);
  });
}
