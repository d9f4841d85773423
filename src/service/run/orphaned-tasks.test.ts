import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { processRunning } from '../../actions/testing.ts';
import type { RunRecord } from '../../store/runs.ts';
import { openSqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { stopOrphanedTasks } from './orphaned-tasks.ts';
import { reapInterrupted } from './run-service.ts';

// Run ids of this test process: a copy of these tests running at the same time (another checkout) has others, so
// neither stops the other's processes.
const RUN = `r-test-${process.pid}`;

async function group(env: Record<string, string>): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  await new Promise((resolve) => child.once('spawn', resolve));
  return child as ChildProcess & { pid: number };
}

test('orphaned task groups are found by the run id their processes carry, and only those are stopped', async (t) => {
  const ours = await group({ DVM_RUN_ID: `${RUN}-1` });
  const otherRun = await group({ DVM_RUN_ID: `${RUN}-2` });
  const unmarked = await group({});
  t.after(() => {
    for (const c of [ours, otherRun, unmarked]) c.kill('SIGKILL');
  });
  const stopped = await stopOrphanedTasks(`${RUN}-1`);
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
    env: { ...process.env, DVM_RUN_ID: `${RUN}-3` },
  });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.stdout?.once('data', resolve));
  const stopped = await stopOrphanedTasks(`${RUN}-3`, 200);
  assert.deepEqual([...stopped.values()], ['killed with SIGKILL after SIGTERM']);
});

test('a dvm started by an orphaned task stops its siblings but not its own group', async (t) => {
  const sibling = await group({ DVM_RUN_ID: `${RUN}-4` });
  t.after(() => sibling.kill('SIGKILL'));
  // The dvm has a marked process in its own group too (one it started itself): that group is left alone.
  const script = `
    import { spawn } from 'node:child_process';
    import { stopOrphanedTasks } from ${JSON.stringify(new URL('./orphaned-tasks.ts', import.meta.url).pathname)};
    const mine = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => mine.once('spawn', resolve));
    console.log(JSON.stringify([...(await stopOrphanedTasks('${RUN}-4', 200)).keys()]));
    mine.kill('SIGKILL');`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, DVM_RUN_ID: `${RUN}-4` },
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), [sibling.pid], 'the sibling group only');
  await new Promise((resolve) =>
    sibling.exitCode !== null || sibling.signalCode ? resolve(0) : sibling.once('exit', resolve),
  );
});

test('a dead run whose task started before its process group was recorded still has that task stopped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-reap-'));
  const store = openSqliteStore(join(dir, 'dvm.db'));
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const runs = store.runStore();
  const dead = Number(
    spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout,
  );
  const base = { rootId: `${RUN}-5`, attempts: 1, results: {}, createdAt: new Date().toISOString() };
  const root = { ...base, id: `${RUN}-5`, level: 'workflow', kind: 'Workflow', name: 'w', node: 'w', seq: 0 };
  runs.save({ ...root, status: 'Running', pid: dead } as RunRecord);
  // The task's record says Running, without its process group: dvm was killed before that was written.
  runs.save({
    ...base,
    id: `${RUN}-5-t`,
    parentId: `${RUN}-5`,
    level: 'task',
    kind: 'Task',
    name: 't',
    node: 't',
    seq: 1,
    status: 'Running',
  } as RunRecord);
  runs.flush();
  const task = await group({ DVM_RUN_ID: `${RUN}-5` });
  t.after(() => task.kill('SIGKILL'));
  const reaped = await reapInterrupted(runs);
  assert.deepEqual(
    reaped.map((r) => r.id),
    [`${RUN}-5`],
  );
  await new Promise((resolve) =>
    task.exitCode !== null || task.signalCode ? resolve(0) : task.once('exit', resolve),
  );
  const tree = new Map(runs.tree(`${RUN}-5`).map((r) => [r.id, r]));
  assert.equal(tree.get(`${RUN}-5`)?.status, 'Interrupted');
  assert.match(
    tree.get(`${RUN}-5`)?.message ?? '',
    new RegExp(`process group was not recorded yet: group ${task.pid} \\(they ended on SIGTERM\\)`),
  );
  assert.equal(tree.get(`${RUN}-5-t`)?.status, 'Interrupted');
});
