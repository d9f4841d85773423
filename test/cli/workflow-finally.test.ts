import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRunning } from '../../src/actions/testing.ts';
import { DVM_BIN, dvm, dvmAsync, dvmOk, tempDir, tempHome } from '../helpers/dvm.ts';
import { LAB_CI, runTree } from '../helpers/runs.ts';

// A workflow's `finally:` entries: checked at apply time, run after its tasks however they ended.

const HEADER = `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: ok, domain: ci}
spec: {command: [echo, ok]}
`;

test('apply refuses a finally entry named like a tasks entry or another finally entry, and dependsOn on no entry', () => {
  const home = tempHome();
  const workflow = `${HEADER}---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: w, domain: ci}
spec:
  tasks:
    - {name: a, taskRef: ok}
  finally:
    - {name: a, taskRef: ok}
    - {name: f, taskRef: ok}
    - {name: f, taskRef: ok}
    - {name: g, taskRef: ok, dependsOn: [a, f, nope]}
`;
  const run = dvm(home, ['apply', '-f', '-'], { input: workflow });
  assert.equal(run.status, 1, run.stderr);
  assert.match(
    run.stderr,
    /DVM_DUPLICATE <stdin>:\d+:\d+ Workflow\/w spec\.finally\[0\]\.name: "a" is also the name of an entry of spec\.tasks/,
  );
  assert.match(
    run.stderr,
    /DVM_DUPLICATE <stdin>:\d+:\d+ Workflow\/w spec\.finally\[2\]\.name: "f" is also the name of spec\.finally\[1\]/,
  );
  assert.match(
    run.stderr,
    /DVM_REF_NOT_FOUND <stdin>:\d+:\d+ Workflow\/w spec\.finally\[3\]\.dependsOn\[2\]: dependsOn "nope" names no entry of spec\.tasks or spec\.finally/,
  );
  assert.doesNotMatch(run.stderr, /dependsOn\[[01]\]/, 'a tasks entry and a finally entry are known names');
  assert.equal(dvm(home, ['get', 'workflows', '-A', '-o', 'name']).stdout, '', 'nothing was written');
  // Unique names, and dependsOn on a tasks entry and on another finally entry: fine.
  const fine = workflow
    .replace('- {name: a, taskRef: ok}\n    - {name: f,', '- {name: a2, taskRef: ok}\n    - {name: f,')
    .replace('- {name: f, taskRef: ok}\n    - {name: g,', '- {name: f2, taskRef: ok}\n    - {name: g,')
    .replace('[a, f, nope]', '[a, f]');
  assert.match(dvmOk(home, ['apply', '-f', '-'], { input: fine }).stdout, /^workflow\/w created$/m);
});

test('a workflow stored with two entries of one name (before apply checked) does not run', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${HEADER}---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: w, domain: ci}
spec: {tasks: [{name: a, taskRef: ok}], finally: [{name: f, taskRef: ok}]}
`,
  });
  const db = new DatabaseSync(join(home, 'dvm.db'));
  db.exec(
    `UPDATE objects SET effective = json_set(effective, '$.spec.finally[0].name', 'a') WHERE kind = 'Workflow'`,
  );
  db.close();
  const run = dvm(home, ['run', 'workflow', 'w']);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /DVM_DUPLICATE: Workflow\/w spec\.finally\[0\]\.name: "a" names two entries/);
});

interface Run {
  node: string;
  status: string;
  reason?: string;
}

// `dvm run workflow w` in the background, in `work`; resolves once the file `started` (a pid) exists there.
async function startRun(home: string, work: string, file: string) {
  const child = spawn(process.execPath, [DVM_BIN, 'run', 'workflow', 'w'], {
    cwd: work,
    env: { ...process.env, DVM_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const pid = await pidIn(join(work, file));
  const id = stderr.match(/^run (r\S+):/m)?.[1];
  assert.ok(id, stderr);
  return { id, pid, exited };
}

async function pidIn(file: string): Promise<number> {
  for (let i = 0; i < 200 && !existsSync(file); i++) await sleep(50);
  return Number(readFileSync(file, 'utf8').trim());
}

function workflowWith(fin: string): string {
  return `${HEADER}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: sleeps, domain: ci}
spec: {shell: "echo $$ > s.pid; exec sleep 30"}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: fin, domain: ci}
spec: {shell: ${JSON.stringify(fin)}}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: w, domain: ci}
spec:
  tasks:
    - {name: s, taskRef: sleeps}
    - {name: after, taskRef: ok, dependsOn: [s]}
  finally:
    - {name: fin, taskRef: fin}
`;
}

test('cancel stops the running tasks, ends those not started Cancelled, then runs the finally tasks', async (t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  dvmOk(home, ['apply', '-f', '-'], { input: workflowWith('touch finally-ran') });
  const run = await startRun(home, work, 's.pid');
  t.after(() => killGroup(run.pid));
  assert.equal(dvmOk(home, ['cancel', 'run', run.id]).stdout, `run ${run.id} Cancelled\n`);
  assert.equal(await run.exited, 1);
  const tree = runTree<Run>(home, run.id);
  assert.deepEqual(
    [...tree.values()].map((r) => `${r.node} ${r.status} ${r.reason ?? ''}`),
    ['w Cancelled Cancelled', 'w/s Cancelled Cancelled', 'w/after Cancelled Cancelled', 'w/fin Succeeded '],
  );
  assert.ok(existsSync(join(work, 'finally-ran')), 'the finally task ran');
  assert.ok(!processRunning(run.pid), 'the running task was stopped');
});

test('a second cancel stops the finally tasks of a cancelled run', async (t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  dvmOk(home, ['apply', '-f', '-'], { input: workflowWith('echo $$ > fin.pid; exec sleep 30') });
  const run = await startRun(home, work, 's.pid');
  t.after(() => killGroup(run.pid));
  const first = dvmAsync(home, ['cancel', 'run', run.id]);
  const fin = await pidIn(join(work, 'fin.pid'));
  t.after(() => killGroup(fin));
  assert.ok(processRunning(fin), 'the finally task runs after the cancel');
  assert.equal(dvmOk(home, ['cancel', 'run', run.id]).stdout, `run ${run.id} Cancelled\n`);
  assert.equal((await first).status, 0);
  assert.equal(await run.exited, 1);
  const tree = runTree<Run>(home, run.id);
  assert.equal(tree.get('w/fin')?.status, 'Cancelled');
  assert.ok(!processRunning(fin), 'the finally task was stopped');
  assert.deepEqual(
    [...tree.values()].filter((r) => r.status === 'Pending' || r.status === 'Running'),
    [],
  );
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Stopped by dvm, as it should be.
  }
}

test('a cancel whose run goes on with long finally tasks says so and exits 0, not DVM_TIMEOUT', async (t) => {
  const home = tempHome();
  const work = tempDir('dvm-work-');
  dvmOk(home, ['apply', '-f', '-'], { input: workflowWith('echo $$ > fin.pid; exec sleep 30') });
  const run = await startRun(home, work, 's.pid');
  t.after(() => killGroup(run.pid));
  const first = await dvmAsync(home, ['cancel', 'run', run.id]);
  const fin = await pidIn(join(work, 'fin.pid'));
  t.after(() => killGroup(fin));
  assert.equal(first.status, 0, first.stderr);
  assert.equal(
    first.stdout,
    `run ${run.id} cancelled; its finally tasks still run (\`dvm cancel run ${run.id}\` again stops them)\n`,
  );
  assert.ok(processRunning(fin), 'the finally task still runs');
  dvmOk(home, ['cancel', 'run', run.id]);
  assert.equal(await run.exited, 1);
});
