import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

// A workflow's `finally:` entries: checked at apply time, run after its tasks however they ended.

const HEADER = `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: ci, ecosystem: lab}
---
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
