import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DVM_BIN, dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import { waitFor } from '../helpers/wait.ts';

// `dvm logs run ID`: what the tasks of a run printed, live with -f.

function setup(t: { after(fn: () => void): void }, tasks: string): { home: string; work: string } {
  const home = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'dvm-work-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  if (tasks) dvmOk(home, ['apply', '-f', '-'], { input: tasks });
  return { home, work };
}

// A dvm in the background: its output so far, and its exit.
function start(home: string, work: string, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [DVM_BIN, ...args], {
    cwd: work,
    env: { ...process.env, DVM_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => {
    out.stdout += d;
  });
  child.stderr?.on('data', (d) => {
    out.stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

test('logs -f prints a task’s output while it runs, not only when it ends', async (t) => {
  const { home, work } = setup(
    t,
    `apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: ticks, domain: ci}
spec:
  shell: for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done
`,
  );
  const run = start(home, work, ['run', 'task', 'ticks']);
  t.after(() => run.child.kill('SIGKILL'));
  await waitFor('the run id', () => /^run r\S+:/m.test(run.out.stderr));
  const id = run.out.stderr.match(/^run (r\S+):/m)?.[1] as string;
  const logs = start(home, work, ['logs', 'run', id, '-f']);
  t.after(() => logs.child.kill('SIGKILL'));
  await waitFor('the first line in dvm logs -f', () => logs.out.stdout.includes('tick 1\n'));
  assert.ok(!logs.out.stdout.includes('tick 6'), `seen while the task runs: ${logs.out.stdout}`);
  assert.equal(run.child.exitCode, null, 'the run is still going');
  assert.equal(await run.exited, 0);
  assert.equal(await logs.exited, 0);
  assert.equal(logs.out.stdout, '==> ticks (Running) <==\ntick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\n');
});

test('logs -f keeps a character whose bytes were written apart whole (no U+FFFD)', async (t) => {
  // Each 日 (3 bytes) is written in two parts, 0.3 s apart: -f reads the log between them.
  const { home, work } = setup(
    t,
    `apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: split, domain: ci}
spec:
  shell: "for i in 1 2 3 4; do printf '\\\\346\\\\227'; sleep 0.3; printf '\\\\245\\\\n'; sleep 0.2; done"
`,
  );
  const run = start(home, work, ['run', 'task', 'split']);
  t.after(() => run.child.kill('SIGKILL'));
  await waitFor('the run id', () => /^run r\S+:/m.test(run.out.stderr));
  const id = run.out.stderr.match(/^run (r\S+):/m)?.[1] as string;
  const logs = start(home, work, ['logs', 'run', id, '-f']);
  t.after(() => logs.child.kill('SIGKILL'));
  assert.equal(await run.exited, 0);
  assert.equal(await logs.exited, 0);
  assert.equal(logs.out.stdout.replace(/^==> .*\n/, ''), '日\n日\n日\n日\n');
});

test('logs --task naming no task of the run lists the tasks it has', (t) => {
  const { home, work } = setup(t, '');
  const run = dvmOk(home, ['run', 'workflow', 'good'], { cwd: work });
  const id = run.stderr.match(/^run (r\S+):/m)?.[1] as string;
  const logs = dvm(home, ['logs', 'run', id, '--task', 'nope']);
  assert.equal(logs.status, 1);
  assert.match(logs.stderr, /DVM_NOT_FOUND: run r\S+ has no task "nope"/);
  assert.match(logs.stderr, /fix: Tasks: good\/produce, good\/consume, good\/only-if-9, good\/flaky\./);
});
