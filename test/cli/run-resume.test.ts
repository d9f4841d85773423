import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRunning } from '../../src/actions/testing.ts';
import { dvm, dvmAsync, dvmOk, tempDir, tempHome } from '../helpers/dvm.ts';
import { LAB_CI, runIdOf, runTree } from '../helpers/runs.ts';

// `dvm run --resume ID` runs what did not succeed the way the run was asked for: its stages, its App.

interface Run {
  node: string;
  status: string;
  reason?: string;
  options?: Record<string, unknown>;
}

// A task that writes where it runs and fails until the file `go` exists there.
const FAIL_ONCE = `apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: fail-once, domain: ci}
spec:
  shell: pwd >> ran-in; test -f go
`;

test('--resume keeps the manual stages the run included, and re-runs the one that failed', (_t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${FAIL_ONCE}---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: wfship, domain: ci}
spec: {tasks: [{name: s, taskRef: fail-once}]}
---
apiVersion: devopsmaestro.io/v1
kind: Pipeline
metadata: {name: deliver, domain: ci}
spec:
  stages:
    - {name: build, workflowRef: good}
    - {name: ship, workflowRef: wfship, manual: true, dependsOn: [build]}
`,
  });
  const first = dvm(home, ['run', 'pipeline', 'deliver', '--include-manual', '-p', '1'], { cwd: work });
  assert.equal(first.status, 1, first.stderr);
  const id = runIdOf(first.stderr);
  assert.equal(runTree<Run>(home, id).get('deliver/ship/s')?.status, 'Failed');
  writeFileSync(join(work, 'go'), '');
  const resumed = dvm(home, ['run', '--resume', id], { cwd: work });
  assert.equal(resumed.status, 0, resumed.stderr);
  const tree = runTree<Run>(home, runIdOf(resumed.stderr));
  assert.deepEqual(tree.get('deliver')?.options, { includeManual: true, parallelism: 1, workdir: work });
  assert.equal(tree.get('deliver/build/produce')?.status, 'Cached');
  assert.equal(tree.get('deliver/build/produce')?.reason, 'Resumed');
  assert.equal(tree.get('deliver/ship/s')?.status, 'Succeeded', 'the manual stage ran again');
  assert.equal(readFileSync(join(work, 'ran-in'), 'utf8').split('\n').length - 1, 2);
});

test('--resume runs tasks in the App the run was started with (-a), wherever it is resumed from', (_t) => {
  const home = tempHome();
  const app = tempDir('dvm-app-');
  const elsewhere = tempDir('dvm-elsewhere-');
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${FAIL_ONCE}---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: app1, domain: ci}
spec: {path: ${app}}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: wfrs, domain: ci}
spec:
  tasks:
    - {name: a, taskRef: consume-free}
    - {name: b, taskRef: fail-once, dependsOn: [a]}
`,
  });
  const first = dvm(home, ['run', 'workflow', 'wfrs', '-d', 'ci', '-a', 'app1'], { cwd: elsewhere });
  assert.equal(first.status, 1, first.stderr);
  const id = runIdOf(first.stderr);
  writeFileSync(join(app, 'go'), '');
  const resumed = dvm(home, ['run', '--resume', id], { cwd: elsewhere });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(runTree<Run>(home, runIdOf(resumed.stderr)).get('wfrs/b')?.status, 'Succeeded');
  assert.equal(readFileSync(join(app, 'ran-in'), 'utf8'), `${app}\n${app}\n`);
});

test('--resume runs the finally tasks again after the tasks it ran again', (_t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${FAIL_ONCE}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: cleanup, domain: ci}
spec: {shell: echo cleaned >> cleanups}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: tidy, domain: ci}
spec:
  tasks: [{name: build, taskRef: fail-once}]
  finally: [{name: cleanup, taskRef: cleanup}]
`,
  });
  const first = dvm(home, ['run', 'workflow', 'tidy'], { cwd: work });
  assert.equal(first.status, 1, first.stderr);
  writeFileSync(join(work, 'go'), '');
  const resumed = dvm(home, ['run', '--resume', runIdOf(first.stderr)], { cwd: work });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(runTree<Run>(home, runIdOf(resumed.stderr)).get('tidy/cleanup')?.status, 'Succeeded');
  assert.equal(readFileSync(join(work, 'cleanups'), 'utf8'), 'cleaned\ncleaned\n');
});

test('one resume of a run at a time: a second while the first runs is DVM_CONFLICT', async (_t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  dvmOk(home, ['apply', '-f', '-'], {
    input: `apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: slow-fail, domain: ci}
spec:
  shell: sleep 1.5; test -f go
`,
  });
  const first = dvm(home, ['run', 'task', 'slow-fail'], { cwd: work });
  assert.equal(first.status, 1, first.stderr);
  const id = runIdOf(first.stderr);
  const resuming = dvmAsync(home, ['run', '--resume', id]);
  await sleep(700);
  const second = dvm(home, ['run', '--resume', id], { cwd: work });
  assert.equal(second.status, 1, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(`^error: DVM_CONFLICT: another dvm \\(pid \\d+\\) is resuming run ${id}`),
  );
  assert.equal((await resuming).status, 1, 'the first resume ran (and failed again: no go file)');
});

test('--resume with KIND NAME of another object, or --stage where no pipeline runs, is DVM_USAGE, not ignored', (_t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  dvmOk(home, ['apply', '-f', '-'], { input: FAIL_ONCE });
  const first = dvm(home, ['run', 'task', 'fail-once'], { cwd: work });
  assert.equal(first.status, 1, first.stderr);
  const id = runIdOf(first.stderr);
  const other = dvm(home, ['run', 'pipeline', 'release', '--resume', id], { cwd: work });
  assert.equal(other.status, 2, other.stderr);
  assert.match(other.stderr, /DVM_USAGE: run \S+ ran task\/fail-once, not pipeline\/release/);
  assert.equal(JSON.parse(dvmOk(home, ['get', 'runs', '-o', 'json']).stdout).items.length, 1);
  // Naming what it ran is fine.
  writeFileSync(join(work, 'go'), '');
  assert.equal(dvm(home, ['run', 'task', 'fail-once', '--resume', id], { cwd: work }).status, 0);
  const staged = dvm(home, ['run', 'task', 'fail-once', '--stage', 'build'], { cwd: work });
  assert.equal(staged.status, 2, staged.stderr);
  assert.match(staged.stderr, /DVM_USAGE: --stage build: task\/fail-once runs no pipeline/);
});

test('a dvm killed as its first task starts leaves a run the next dvm finds Interrupted, its processes stopped', async (_t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  // The task kills the dvm that started it (its parent) at once, before any periodic write of the records.
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: orphan, domain: ci}
spec:
  shell: echo $$ > orphan.pid; kill -9 $PPID; exec sleep 30
`,
  });
  const killed = dvm(home, ['run', 'task', 'orphan', '-d', 'ci'], { cwd: work });
  assert.equal(killed.status, -1, 'dvm was killed');
  const pid = Number(readFileSync(join(work, 'orphan.pid'), 'utf8').trim());
  const runs = JSON.parse(dvmOk(home, ['get', 'runs', '-o', 'json']).stdout).items as Run[];
  assert.deepEqual(
    runs.map((r) => r.status),
    ['Interrupted'],
  );
  for (let i = 0; i < 50 && processRunning(pid); i++) await sleep(100);
  assert.ok(!processRunning(pid), 'the task was stopped');
});

test('cancel and --resume of the id of a record inside a run name the run to use instead of "no run"', (_t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  const id = runIdOf(dvmOk(home, ['run', 'pipeline', 'release'], { cwd: work }).stderr);
  const child = [...runTree<Run & { id: string }>(home, id).values()].find(
    (r) => r.node === 'release/build',
  )?.id;
  assert.ok(child && child !== id);
  for (const args of [
    ['cancel', 'run', child],
    ['run', '--resume', child],
  ]) {
    const refused = dvm(home, args, { cwd: work });
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`DVM_RUN_NOT_FOUND: ${child} is stage release/build of run ${id}, not a run`),
    );
    assert.match(refused.stderr, new RegExp(`fix: .*dvm ${args[0]} (run|--resume) ${id}`));
  }
});
