import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import { processRunning } from '../../actions/testing.ts';
import { stopOrphanedTasks } from './orphaned-tasks.ts';

async function group(env: Record<string, string>): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  await new Promise((resolve) => child.once('spawn', resolve));
  return child as ChildProcess & { pid: number };
}

test('orphaned task groups are stopped only when their processes carry the run id', async (t) => {
  const ours = await group({ DVM_RUN_ID: 'r-test-1' });
  const otherRun = await group({ DVM_RUN_ID: 'r-test-2' });
  const unmarked = await group({});
  t.after(() => {
    for (const c of [ours, otherRun, unmarked]) c.kill('SIGKILL');
  });
  const stopped = await stopOrphanedTasks('r-test-1', [ours.pid, otherRun.pid, unmarked.pid, ours.pid]);
  assert.deepEqual([...stopped], [[ours.pid, 'they ended on SIGTERM']]);
  await new Promise((resolve) =>
    ours.exitCode !== null || ours.signalCode ? resolve(0) : ours.once('exit', resolve),
  );
  assert.ok(!processRunning(ours.pid));
  assert.ok(processRunning(otherRun.pid), 'a group of another run is left alone');
  assert.ok(processRunning(unmarked.pid), 'a group without the mark (a reused number) is left alone');
});

test('an orphaned group that ignores SIGTERM is killed after the grace', async (t) => {
  const child = spawn('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, DVM_RUN_ID: 'r-test-3' },
  });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.stdout?.once('data', resolve));
  const stopped = await stopOrphanedTasks('r-test-3', [child.pid as number], 200);
  assert.deepEqual([...stopped.values()], ['killed with SIGKILL after SIGTERM']);
});
