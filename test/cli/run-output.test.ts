import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

// What `dvm run` prints and records, beyond the run's outcome.

function setup(tasks?: string): string {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  if (tasks) dvmOk(home, ['apply', '-f', '-'], { input: tasks });
  return home;
}

test('a callback that notes a failure on a task prints no second line for it; dvm status shows its code and fix', () => {
  const home = setup(`apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: cb, domain: ci}
spec:
  command: [echo, hi]
  onSuccess: {action: exec, command: ["false"]}
`);
  const run = dvmOk(home, ['run', 'task', 'cb']);
  assert.equal(run.stdout.match(/ task cb Succeeded in /g)?.length, 1, run.stdout);
  const id = run.stderr.match(/^run (r\S+):/m)?.[1] as string;
  assert.match(
    dvmOk(home, ['status', 'run', id]).stdout,
    /^task\/cb {2}Succeeded .*\(onSuccess exec failed: DVM_TASK_FAILED: command false exited with code 1\)\n {2}fix: onSuccess exec: A callback keeps no log/m,
  );
});

test('a task that succeeded records exit code 0; one that failed, its code; one that did not run, none', (t) => {
  const home = setup();
  const work = mkdtempSync(join(tmpdir(), 'dvm-work-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const run = dvm(home, ['run', 'workflow', 'bad'], { cwd: work });
  const id = run.stderr.match(/^run (r\S+):/m)?.[1] as string;
  const items = JSON.parse(dvmOk(home, ['status', 'run', id, '-o', 'json']).stdout).items as {
    node: string;
    exitCode?: number;
  }[];
  const codes = Object.fromEntries(items.map((r) => [r.node, r.exitCode]));
  assert.deepEqual(codes, {
    bad: undefined,
    'bad/slow': undefined,
    'bad/after-slow': undefined,
    'bad/tolerated': 3,
    'bad/cleanup': 0,
  });
});

test('--parallelism takes a decimal integer of at least 1, nothing else', () => {
  const home = setup();
  for (const bad of ['1e3', '0x2', '0', '-1', '1.5', ' 4', '']) {
    const run = dvm(home, ['run', 'task', 'produce', `--parallelism=${bad}`]);
    assert.equal(run.status, 2, `-p "${bad}": ${run.stderr}`);
    assert.match(run.stderr, /DVM_USAGE: --parallelism must be a positive integer/);
  }
  assert.equal(dvm(home, ['run', 'task', 'consume-free', '-p', '3']).status, 0);
});

test('dvm run with DVM_SERVER or DVM_TOKEN set says once that it runs here, as the local user (a token does not follow it)', () => {
  const home = setup(`apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: hi, domain: ci}
spec:
  command: [echo, hi]
`);
  const note = /^note: dvm run runs here, its actions as the local user/m;
  const withToken = dvmOk(home, ['run', 'task', 'hi'], {
    env: { DVM_TOKEN: 'dvm_not_used', DVM_SERVER: '' },
  });
  assert.equal(withToken.stderr.match(new RegExp(note.source, 'gm'))?.length, 1, withToken.stderr);
  assert.doesNotMatch(withToken.stderr + withToken.stdout, /dvm_not_used/);
  assert.doesNotMatch(
    dvmOk(home, ['run', 'task', 'hi'], { env: { DVM_TOKEN: '', DVM_SERVER: '' } }).stderr,
    note,
  );
});
