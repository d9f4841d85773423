import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRunning } from '../../src/actions/testing.ts';
import { DVM_BIN, dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

// A run of one task has a single record, both the run's root and the task: these runs must end as a workflow's do.

interface Run {
  node: string;
  status: string;
  reason?: string;
  message?: string;
  pid?: number;
  pgid?: number;
}

function setup(shell: string): { home: string; work: string } {
  const home = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'dvm-work-'));
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  dvmOk(home, ['apply', '-f', '-'], {
    input: `apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: one, domain: ci}\nspec:\n  shell: ${JSON.stringify(shell)}\n`,
  });
  return { home, work };
}

function rootOf(home: string, id: string): Run {
  const items = JSON.parse(dvmOk(home, ['status', 'run', id, '-o', 'json']).stdout).items as Run[];
  assert.equal(items.length, 1, 'a run of one task has one record');
  return items[0];
}

// Starts `dvm run task one` in the background; resolves once the task has written its pid (its group's id).
async function startRun(
  home: string,
  work: string,
): Promise<{ child: ChildProcess; id: string; task: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [DVM_BIN, 'run', 'task', 'one'], {
    cwd: work,
    env: { ...process.env, DVM_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const pidFile = join(work, 'task.pid');
  for (let i = 0; i < 200 && !existsSync(pidFile); i++) await sleep(50);
  const task = Number(readFileSync(pidFile, 'utf8').trim());
  const id = stderr.match(/^run (r\S+):/m)?.[1];
  assert.ok(id && task > 0, stderr);
  return { child, id, task, exited };
}

function cleanUp(work: string, task: number): void {
  try {
    process.kill(-task, 'SIGKILL');
  } catch {
    // Stopped by dvm, as it should be.
  }
  rmSync(work, { recursive: true, force: true });
}

test('a killed `dvm run task` is Interrupted on the next dvm, its task stopped; cancel answers and resume runs it', async (t) => {
  const { home, work } = setup('echo $$ > task.pid; test -f go || exec sleep 30');
  const run = await startRun(home, work);
  t.after(() => cleanUp(work, run.task));
  // The task's group reaches the record (written in batches) before the kill.
  for (let i = 0; i < 100 && rootOf(home, run.id).pgid === undefined; i++) await sleep(20);
  const owner = run.child.pid;
  run.child.kill('SIGKILL');
  await run.exited;
  assert.ok(processRunning(run.task), 'the task outlives the dvm that was killed');
  // The next dvm (here `dvm cancel`) finds the owner gone: the run is over, nothing waits 10 s for it.
  const started = Date.now();
  const cancel = dvmOk(home, ['cancel', 'run', run.id]);
  assert.equal(cancel.stdout, `run ${run.id} already ended: Interrupted\n`);
  assert.ok(Date.now() - started < 8000);
  const root = rootOf(home, run.id);
  assert.equal(root.status, 'Interrupted');
  assert.equal(root.pid, owner, 'the root record still names the dvm that owned the run');
  assert.equal(root.pgid, run.task);
  assert.match(
    root.message ?? '',
    new RegExp(
      `^dvm process ${owner} ended before the run finished; stopped the task's processes \\(process group ${run.task}\\): they ended on SIGTERM$`,
    ),
  );
  assert.ok(!processRunning(run.task), 'the orphaned task was stopped');
  writeFileSync(join(work, 'go'), '');
  const resumed = dvm(home, ['run', '--resume', run.id], { cwd: work });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /task\/one Succeeded/);
});

test('a second Ctrl-C kills the task of `dvm run task` (one that ignores SIGTERM) before dvm exits 130', async (t) => {
  const { home, work } = setup("trap '' TERM; echo $$ > task.pid; while :; do sleep 0.1; done");
  const run = await startRun(home, work);
  t.after(() => cleanUp(work, run.task));
  run.child.kill('SIGINT');
  await sleep(300);
  assert.ok(processRunning(run.task), 'the task ignores SIGTERM (dvm waits out the grace)');
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 130);
  // SIGKILL was sent before dvm exited; it takes effect within moments.
  for (let i = 0; i < 20 && processRunning(run.task); i++) await sleep(50);
  assert.ok(!processRunning(run.task), 'no task outlives the dvm');
  assert.equal(rootOf(home, run.id).status, 'Interrupted');
});

test('a run cancelled by a signal exits 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129) once it is recorded Cancelled', async (t) => {
  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    const { home, work } = setup('echo $$ > task.pid; while :; do sleep 0.1; done');
    const run = await startRun(home, work);
    t.after(() => cleanUp(work, run.task));
    run.child.kill(signal);
    assert.equal(await run.exited, status, signal);
    assert.equal(rootOf(home, run.id).status, 'Cancelled', signal);
  }
});
