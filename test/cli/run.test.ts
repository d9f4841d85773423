import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRunning } from '../../src/actions/testing.ts';
import { DVM_BIN, dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import { LAB_CI, runIdOf, runTree } from '../helpers/runs.ts';

const FIXTURE = 'test/fixtures/runs.yaml';

interface Run {
  id: string;
  node: string;
  status: string;
  reason?: string;
  attempts: number;
  results: Record<string, string>;
  exitCode?: number;
  pid?: number;
  pgid?: number;
  message?: string;
  cacheNote?: string;
}

function setup(): { home: string; work: string } {
  const home = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'dvm-work-'));
  dvmOk(home, ['apply', '-f', FIXTURE]);
  return { home, work };
}

test('a workflow runs its DAG: results flow, conditions skip, retries recover; exit 0', () => {
  const { home, work } = setup();
  const run = dvm(home, ['run', 'workflow', 'good', '-p', '2'], { cwd: work });
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const id = runIdOf(run.stderr);
  const tree = runTree<Run>(home, id);
  assert.equal(tree.get('good')?.status, 'Succeeded');
  assert.deepEqual(tree.get('good/produce')?.results, { version: '1.2.3' });
  assert.equal(tree.get('good/consume')?.status, 'Succeeded');
  assert.equal(tree.get('good/only-if-9')?.status, 'Skipped');
  assert.equal(tree.get('good/only-if-9')?.reason, 'WhenFalse');
  assert.equal(tree.get('good/flaky')?.status, 'Succeeded');
  assert.equal(tree.get('good/flaky')?.attempts, 3);
  // One line per state change when stdout is not a terminal.
  assert.match(run.stdout, /task good\/consume Succeeded in \d+/);
  const logs = dvmOk(home, ['logs', 'run', id, '--task', 'consume']).stdout;
  assert.equal(logs, 'got=1.2.3\n');
  assert.match(
    dvmOk(home, ['logs', 'run', id]).stdout,
    /==> good\/flaky \(Succeeded\) <==\nattempt 0\nattempt 1\nattempt 2\n/,
  );
});

test('timeouts, failures, continueOnError and finally; exit 1 and reasons recorded', () => {
  const { home, work } = setup();
  const started = Date.now();
  const run = dvm(home, ['run', 'workflow', 'bad'], { cwd: work });
  assert.ok(Date.now() - started < 10_000, 'the 30 s sleep was cut by its 300 ms timeout');
  assert.equal(run.status, 1);
  const tree = runTree<Run>(home, runIdOf(run.stderr));
  assert.equal(tree.get('bad')?.status, 'Failed');
  assert.equal(tree.get('bad/slow')?.status, 'TimedOut');
  assert.equal(tree.get('bad/after-slow')?.status, 'Skipped');
  assert.equal(tree.get('bad/after-slow')?.reason, 'DependencyFailed');
  assert.equal(tree.get('bad/tolerated')?.status, 'Failed');
  assert.equal(tree.get('bad/tolerated')?.exitCode, 3);
  assert.equal(tree.get('bad/cleanup')?.status, 'Succeeded');
  assert.ok(existsSync(join(work, 'cleaned')), 'finally task ran');
});

test('pipelines skip manual stages unless asked; get runs and status show the latest run', () => {
  const { home, work } = setup();
  dvmOk(home, ['run', 'pipeline', 'release'], { cwd: work });
  let tree = runTree<Run>(home, JSON.parse(dvmOk(home, ['get', 'runs', '-o', 'json']).stdout).items[0].id);
  assert.deepEqual(
    [...tree.keys()].filter((k) => k.split('/').length === 2),
    ['release/build'],
  );
  const all = dvmOk(home, ['run', 'pipeline', 'release', '--include-manual'], { cwd: work });
  tree = runTree<Run>(home, runIdOf(all.stderr));
  assert.equal(tree.get('release/ship')?.status, 'Succeeded');
  assert.match(dvmOk(home, ['status', 'pipeline', 'release']).stdout, /^ {2}ship {2}Succeeded/m);
  assert.match(dvmOk(home, ['get', 'runs']).stdout, /^r\S+\s+pipeline\/release\s+Succeeded\s+manual/m);
});

test('tasks with inputs are Cached when nothing changed, and say which input changed when they re-run', () => {
  const { home, work } = setup();
  writeFileSync(join(work, 'src.txt'), 'one');
  const task = `apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: build, domain: ci}\nspec:\n  workdir: ${work}\n  shell: cat src.txt > out.txt; printf built > "$DVM_RESULTS/state"\n  inputs: ["*.txt", "!out.txt"]\n  outputs: [out.txt]\n  results: [{name: state}]\n`;
  dvmOk(home, ['apply', '-f', '-'], {
    input: task.replace('inputs: ["*.txt", "!out.txt"]', 'inputs: [src.txt]'),
  });
  const first = runTree<Run>(home, runIdOf(dvmOk(home, ['run', 'task', 'build']).stderr));
  assert.equal(first.get('build')?.status, 'Succeeded');
  const second = runTree<Run>(home, runIdOf(dvmOk(home, ['run', 'task', 'build']).stderr));
  assert.equal(second.get('build')?.status, 'Cached');
  assert.deepEqual(second.get('build')?.results, { state: 'built' });
  writeFileSync(join(work, 'src.txt'), 'two');
  const third = runTree<Run>(home, runIdOf(dvmOk(home, ['run', 'task', 'build']).stderr));
  assert.equal(third.get('build')?.status, 'Succeeded');
  assert.equal(third.get('build')?.cacheNote, 'src.txt changed');
  assert.equal(readFileSync(join(work, 'out.txt'), 'utf8'), 'two');
  const forced = runTree<Run>(home, runIdOf(dvmOk(home, ['run', 'task', 'build', '--no-cache']).stderr));
  assert.equal(forced.get('build')?.status, 'Succeeded');
});

test('a run killed with SIGKILL is Interrupted; --resume re-runs only what did not succeed', async () => {
  const { home, work } = setup();
  const workflow = `apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: first, domain: ci}\nspec:\n  shell: echo once >> first.log; printf done > "$DVM_RESULTS/mark"\n  results: [{name: mark}]\n---\napiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: second, domain: ci}\nspec:\n  shell: echo $$ > second.pid; test -f go || exec sleep 30\n---\napiVersion: devopsmaestro.io/v1\nkind: Workflow\nmetadata: {name: two, domain: ci}\nspec:\n  tasks:\n    - {name: first, taskRef: first}\n    - {name: second, taskRef: second, dependsOn: [first]}\n`;
  dvmOk(home, ['apply', '-f', '-'], { input: workflow });
  const child = spawn(process.execPath, [DVM_BIN, 'run', 'workflow', 'two'], {
    cwd: work,
    env: { ...process.env, DVM_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  // The second task writes its pid (its process group leader, as dvm starts each task in its own group).
  let sleeper: number | undefined;
  for (let i = 0; i < 100 && sleeper === undefined; i++) {
    await sleep(100);
    const file = join(work, 'second.pid');
    if (existsSync(file)) sleeper = Number(readFileSync(file, 'utf8').trim()) || undefined;
  }
  assert.ok(sleeper, 'the second task started');
  // Records are written in batches every 25 ms: wait until the first task's success and the second task's
  // process group are on disk.
  const id0 = runIdOf(stderr);
  const onDisk = () => {
    const tree = runTree<Run>(home, id0);
    return tree.get('two/first')?.status === 'Succeeded' && tree.get('two/second')?.pgid !== undefined;
  };
  for (let i = 0; i < 100 && !onDisk(); i++) await sleep(20);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  const orphan = sleeper;
  after(() => {
    try {
      process.kill(-orphan, 'SIGKILL');
    } catch {
      // Stopped by dvm, as it should be.
    }
  });
  assert.ok(processRunning(sleeper), 'the task outlives the dvm that was killed');
  const id = runIdOf(stderr);
  // The next dvm (here `dvm status`) marks the run Interrupted and stops the task it left running.
  const interrupted = runTree<Run>(home, id);
  assert.equal(interrupted.get('two')?.status, 'Interrupted');
  assert.equal(interrupted.get('two/first')?.status, 'Succeeded');
  assert.equal(interrupted.get('two/second')?.status, 'Interrupted');
  assert.match(
    interrupted.get('two/second')?.message ?? '',
    /ended before the run finished; stopped the task's processes \(process group \d+\): they ended on SIGTERM/,
  );
  assert.ok(!processRunning(sleeper), 'the orphaned task was stopped before anything could resume the run');
  writeFileSync(join(work, 'go'), '');
  const resumed = dvm(home, ['run', '--resume', id], { cwd: work });
  assert.equal(resumed.status, 0, resumed.stderr);
  const tree = runTree<Run>(home, runIdOf(resumed.stderr));
  assert.equal(tree.get('two/first')?.status, 'Cached');
  assert.equal(tree.get('two/first')?.reason, 'Resumed');
  assert.deepEqual(tree.get('two/first')?.results, { mark: 'done' });
  assert.equal(tree.get('two/second')?.status, 'Succeeded');
  assert.equal(readFileSync(join(work, 'first.log'), 'utf8'), 'once\n');
});

test('cancel stops a running run and kills its process group', async () => {
  const { home, work } = setup();
  dvmOk(home, ['apply', '-f', '-'], {
    input:
      'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: long, domain: ci}\nspec:\n  shell: echo $$ > long.pid; exec sleep 30\n',
  });
  const child = spawn(process.execPath, [DVM_BIN, 'run', 'task', 'long'], {
    cwd: work,
    env: { ...process.env, DVM_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const pidFile = join(work, 'long.pid');
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(50);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const id = runIdOf(stderr);
  const cancel = dvmOk(home, ['cancel', 'run', id]);
  assert.equal(cancel.stdout, `run ${id} Cancelled\n`);
  assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 1);
  assert.equal(runTree<Run>(home, id).get('long')?.status, 'Cancelled');
  // The task's process group is gone (a zombie left for init to reap counts as gone).
  const state = existsSync(`/proc/${pid}/stat`)
    ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]
    : 'gone';
  assert.ok(state === 'gone' || state === 'Z', `sleep is ${state}`);
});

test('background processes a task leaves keep running for later tasks and are stopped when the run ends', () => {
  const { home, work } = setup();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: start-server, domain: ci}
spec:
  shell: sleep 300 & echo $! > "$DVM_RESULTS/pid"; echo server started
  results: [{name: pid}]
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: use-server, domain: ci}
spec:
  command: [kill, "-0", "$(tasks.start-server.results.pid)"]
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: with-server, domain: ci}
spec:
  tasks:
    - {name: start-server, taskRef: start-server}
    - {name: use-server, taskRef: use-server, dependsOn: [start-server]}
`,
  });
  const run = dvm(home, ['run', 'workflow', 'with-server'], { cwd: work });
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const id = runIdOf(run.stderr);
  const tree = runTree<Run>(home, id);
  assert.equal(tree.get('with-server/use-server')?.status, 'Succeeded', 'the server outlived its task');
  const pid = Number(tree.get('with-server/start-server')?.results.pid);
  assert.ok(pid > 0);
  const state = existsSync(`/proc/${pid}/stat`)
    ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]
    : 'gone';
  assert.ok(state === 'gone' || state === 'Z', `the background sleep is ${state} after the run`);
  assert.match(
    tree.get('with-server/start-server')?.message ?? '',
    /stopped the background processes it left running \(process group \d+\) when the run ended: they ended on SIGTERM/,
  );
  assert.match(
    dvmOk(home, ['status', 'run', id]).stdout,
    /^ {2}start-server {2}Succeeded {2}\d+ms {2}\(stopped the background processes it left running \(process group \d+\) when the run ended: they ended on SIGTERM\)$/m,
    'dvm status shows the message of a task that succeeded',
  );
  assert.equal(
    dvmOk(home, ['logs', 'run', id, '--task', 'start-server']).stdout,
    'server started\n[dvm: the run ended; stopped the background processes this task left running (they ended on SIGTERM)]\n',
  );
});

test('a burst of quick tasks is started by helper processes, with the same results', () => {
  const { home, work } = setup();
  // Enough for the helpers (started once 8 tasks started within 200 ms) to be ready before the burst ends.
  const tasks = Array.from({ length: 200 }, (_, i) => `t${i}`);
  const docs = tasks.map(
    (t) =>
      `apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: ${t}, domain: ci}\nspec:\n  shell: echo $PPID > "$DVM_RESULTS/parent"\n  results: [{name: parent}]\n`,
  );
  docs.push(
    `apiVersion: devopsmaestro.io/v1\nkind: Workflow\nmetadata: {name: burst, domain: ci}\nspec:\n  tasks:\n${tasks.map((t) => `    - {name: ${t}, taskRef: ${t}}`).join('\n')}\n`,
  );
  dvmOk(home, ['apply', '-f', '-'], { input: docs.join('---\n') });
  const run = dvm(home, ['run', 'workflow', 'burst', '-p', '2'], { cwd: work });
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const tree = runTree<Run>(home, runIdOf(run.stderr));
  const dvmPid = String(tree.get('burst')?.pid);
  const parents = tasks.map((t) => tree.get(`burst/${t}`)?.results.parent);
  assert.ok(
    parents.every((p) => p !== undefined && p !== ''),
    'every task ran and wrote its result',
  );
  assert.ok(parents.includes(dvmPid), 'the first tasks of a burst are started by dvm itself');
  assert.ok(
    parents.some((p) => p !== dvmPid),
    `later ones by a helper (parents: ${[...new Set(parents)].join(', ')}; dvm ${dvmPid})`,
  );
});

test('bad execution input is refused at apply time with coded errors', () => {
  const { home } = setup();
  const bad = `apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: piped, domain: ci}\nspec:\n  command: go test ./... | tee out.txt\n---\napiVersion: devopsmaestro.io/v1\nkind: Job\nmetadata: {name: nightly, domain: ci}\nspec:\n  runs: good\n  trigger: {schedule: "61 * * * *"}\n---\napiVersion: devopsmaestro.io/v1\nkind: Workflow\nmetadata: {name: refs, domain: ci}\nspec:\n  tasks:\n    - {name: consume, taskRef: consume}\n    - {name: produce, taskRef: produce}\n`;
  const run = dvm(home, ['apply', '-f', '-'], { input: bad });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /DVM_EXEC_SHELL_SYNTAX <stdin>:5:3 Task\/piped spec\.command: .*pipe \(\|\)/);
  assert.match(
    run.stderr,
    /DVM_CRON_INVALID <stdin>:\d+:\d+ Job\/nightly spec\.trigger\.schedule: schedule "61 \* \* \* \*" does not parse/,
  );
  assert.match(
    run.stderr,
    /DVM_RESULT_REF .*Workflow\/refs spec\.tasks\[0\]\.taskRef: Task\/consume: \$\(tasks\.produce\.results\.version\): "consume" uses a result of "produce" but does not depend on it/,
  );
});

test('a program or working directory missing on this machine is a warning at apply time and an error at run time', () => {
  const { home, work } = setup();
  const tasks = `apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: nobin, domain: ci}
spec:
  command: [definitely-not-installed-here, --version]
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: nodir, domain: ci}
spec:
  workdir: ${join(work, 'no-such-dir')}
  command: [./build.sh]
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: fine, domain: ci}
spec:
  command: sh -c true
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: later, domain: ci}
spec:
  command: ["$(tasks.build.results.tool)"]
`;
  const applied = dvm(home, ['apply', '-f', '-'], { input: tasks });
  assert.equal(applied.status, 0, applied.stderr);
  const warnings = applied.stderr.split('\n').filter((line) => line.startsWith('warning:'));
  assert.deepEqual(warnings, [
    `warning: DVM_EXEC_NOT_FOUND <stdin>:5:13 Task/nobin spec.command[0]: program "definitely-not-installed-here" is not on this machine's PATH (checked again when the task runs)`,
    `warning: DVM_WORKDIR_NOT_FOUND <stdin>:11:3 Task/nodir spec.workdir: ${join(work, 'no-such-dir')} is not a directory on this machine (checked again when the task runs)`,
  ]);
  const run = dvm(home, ['run', 'task', 'nobin', '-d', 'ci']);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /DVM_EXEC_NOT_FOUND/);
});

test('a stage after a manual stage waits for it: left out with it, and after the stages before it when named', () => {
  const home = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'dvm-work-'));
  const stage = (name: string) =>
    `apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: t-${name}, domain: ci}
spec: {shell: 'echo start-${name} >> order.log; sleep 0.3; echo end-${name} >> order.log'}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: w-${name}, domain: ci}
spec: {tasks: [{name: t, taskRef: t-${name}}]}
`;
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
${['build', 'test', 'deploy', 'smoke'].map(stage).join('---\n')}---
apiVersion: devopsmaestro.io/v1
kind: Pipeline
metadata: {name: cd, domain: ci}
spec:
  stages:
    - {name: build, workflowRef: w-build}
    - {name: test, workflowRef: w-test, dependsOn: [build]}
    - {name: deploy, workflowRef: w-deploy, dependsOn: [test], manual: true}
    - {name: smoke, workflowRef: w-smoke, dependsOn: [deploy]}
`,
  });
  const stagesOf = (stderr: string) =>
    [...runTree<Run>(home, runIdOf(stderr)).keys()].filter((k) => k.split('/').length === 2);
  // Without the manual stage, the smoke test of the deployment it did not make does not run either.
  const plain = dvmOk(home, ['run', 'pipeline', 'cd'], { cwd: work });
  assert.deepEqual(stagesOf(plain.stderr), ['cd/build', 'cd/test']);
  assert.doesNotMatch(readFileSync(join(work, 'order.log'), 'utf8'), /smoke/);
  // Named stages keep the order their dependencies give, through the stages left out.
  writeFileSync(join(work, 'order.log'), '');
  const named = dvmOk(home, ['run', 'pipeline', 'cd', '--stage', 'test', '--stage', 'smoke'], {
    cwd: work,
  });
  assert.deepEqual(stagesOf(named.stderr), ['cd/test', 'cd/smoke']);
  assert.deepEqual(readFileSync(join(work, 'order.log'), 'utf8').trim().split('\n'), [
    'start-test',
    'end-test',
    'start-smoke',
    'end-smoke',
  ]);
  const all = dvmOk(home, ['run', 'pipeline', 'cd', '--include-manual'], { cwd: work });
  assert.deepEqual(stagesOf(all.stderr), ['cd/build', 'cd/test', 'cd/deploy', 'cd/smoke']);
});
