import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DVM_BIN, dvmOk, tempHome } from '../helpers/dvm.ts';
import { dvmPty, HAS_SCRIPT } from '../helpers/pty.ts';
import { LAB_CI, runIdOf, runTree } from '../helpers/runs.ts';

// `dvm run` on a terminal: the live tree.

const skip = HAS_SCRIPT ? false : 'needs util-linux script (a pseudo-terminal)';

/** A Workflow `wide` of `n` quick tasks with no dependencies. */
function wide(n: number): string {
  const docs = [LAB_CI];
  const entries: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(`---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: q${i}, domain: ci}
spec: {command: ["true"]}
`);
    entries.push(`    - {name: q${i}, taskRef: q${i}}`);
  }
  docs.push(`---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: wide, domain: ci}
spec:
  tasks:
${entries.join('\n')}
`);
  return docs.join('');
}

const CANCELLABLE = `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: slow, domain: ci}
spec: {command: [sleep, "30"]}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: tidy, domain: ci}
spec: {command: [echo, tidied]}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: cancellable, domain: ci}
spec:
  tasks:
    - {name: a, taskRef: slow}
    - {name: b, taskRef: slow, dependsOn: [a]}
  finally:
    - {name: f, taskRef: tidy}
`;

test('Ctrl-C during the live tree cancels the run: running tasks stopped, finally tasks run, cursor shown', {
  skip,
}, async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: CANCELLABLE });
  const run = await dvmPty(home, ['run', 'workflow', 'cancellable'], {
    keys: '\x03',
    // Task a runs (its spinner is drawn) before the key is typed.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
    typeWhen: (out) => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\S* a/.test(out.replace(/\x1b\[[0-9;]*m/g, '')),
  });
  const id = runIdOf(run.output);
  const records = runTree<{ node: string; status: string }>(home, id);
  assert.equal(records.get('cancellable')?.status, 'Cancelled', run.output);
  assert.equal(records.get('cancellable/a')?.status, 'Cancelled');
  assert.equal(records.get('cancellable/b')?.status, 'Cancelled');
  assert.equal(records.get('cancellable/f')?.status, 'Succeeded');
  assert.equal(run.status, 130, `exits 128 + SIGINT, as shells expect: ${run.output}`);
  assert.match(run.output, /workflow\/cancellable Cancelled in /);
  // The cursor hidden for the tree is shown again at the end.
  assert.ok(run.output.lastIndexOf('\x1b[?25h') > run.output.lastIndexOf('\x1b[?25l'), run.output);
});

test('the live tree of 400 quick tasks costs the run no more than a few seconds', { skip }, async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: wide(400) });
  const started = Date.now();
  const run = await dvmPty(home, ['run', 'workflow', 'wide', '-p', '8']);
  const took = Date.now() - started;
  assert.equal(run.status, 0, run.output.slice(-2000));
  // Without a terminal this takes well under a second; a tree redrawn whole for every event took ~20 s.
  assert.ok(took < 8000, `took ${took} ms`);
  // A group too large for a line per task is one line of counts: the end says all 400 are done.
  assert.match(run.output, /wide \(workflow\) 400\/400 done/);
  assert.doesNotMatch(run.output, /✔\S* q\d+ /, 'no line per task');
});

test('a terminal whose size nobody set (0 columns) gets the tree 80 columns wide, not a character a line', {
  skip,
}, async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: wide(3) });
  const run = await dvmPty(home, ['run', 'workflow', 'wide'], { columns: 0, rows: 0 });
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /wide \(workflow\)/);
  assert.match(run.output, /q2 \d+ms/);
});

test('a terminal that cannot move its cursor (TERM=dumb) gets one line per change', { skip }, async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: wide(2) });
  const run = await dvmPty(home, ['run', 'workflow', 'wide'], { env: { TERM: 'dumb' } });
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /^\d\d:\d\d:\d\d task wide\/q1 Succeeded/m);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
  assert.doesNotMatch(run.output, /\x1b\[\d*[AK]/, 'no cursor movement');
});

test('closing the terminal (SIGHUP) cancels the run: running tasks stopped, finally tasks run', {
  skip,
}, async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: CANCELLABLE });
  const run = await dvmPty(home, ['run', 'workflow', 'cancellable'], {
    hangUp: true,
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
    typeWhen: (out) => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\S* a/.test(out.replace(/\x1b\[[0-9;]*m/g, '')),
  });
  const id = runIdOf(run.output);
  // dvm goes on after the terminal is gone: it cancels, runs the finally task, records the end.
  let records = runTree<{ node: string; status: string }>(home, id);
  const ended = () =>
    ['Cancelled', 'Succeeded', 'Failed', 'Interrupted'].includes(String(records.get('cancellable')?.status));
  for (let i = 0; i < 100 && !ended(); i++) {
    await sleep(100);
    records = runTree(home, id);
  }
  assert.equal(records.get('cancellable')?.status, 'Cancelled', run.output);
  assert.equal(records.get('cancellable/a')?.status, 'Cancelled');
  assert.equal(records.get('cancellable/f')?.status, 'Succeeded');
});

test('a reader that goes away (`dvm run … | head -1`) cancels the run: finally tasks run, nothing left behind', async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: CANCELLABLE });
  const piped = spawnSync(
    'sh',
    [
      '-c',
      `"${process.execPath}" "${DVM_BIN}" run workflow cancellable -d ci 2>"$1" | head -1`,
      'sh',
      join(home, 'err'),
    ],
    { env: { ...process.env, DVM_HOME: home }, encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(piped.stdout.split('\n').length, 2, piped.stdout);
  const id = runIdOf(readFileSync(join(home, 'err'), 'utf8'));
  let records = runTree<{ node: string; status: string }>(home, id);
  for (let i = 0; i < 100 && records.get('cancellable/f')?.status !== 'Succeeded'; i++) {
    await sleep(100);
    records = runTree(home, id);
  }
  assert.equal(records.get('cancellable')?.status, 'Cancelled');
  assert.equal(records.get('cancellable/f')?.status, 'Succeeded', 'the finally task ran');
});
