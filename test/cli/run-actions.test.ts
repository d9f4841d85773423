import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';
import { LAB_CI, runIdOf } from '../helpers/runs.ts';

const HEADER = `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Action
metadata: {name: greet}
spec:
  inputs:
    - {name: who, type: string, required: true}
    - {name: file, type: string, required: true}
  command: [sh, -c, 'echo "hello $1" >> "$2"', sh, "{{ inputs.who }}", "{{ inputs.file }}"]
`;

test('params of an action are checked against its inputs at apply time, for tasks and callbacks', () => {
  const home = tempHome();
  const applied = dvm(home, ['apply', '-f', '-'], {
    input: `${HEADER}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: wrong, domain: ci}
spec:
  action: greet
  params: {who: 5, file: /dev/null, extra: 1}
  onFailure: {action: notify.slack, mesage: hi}
`,
  });
  assert.equal(applied.status, 1, applied.stderr);
  assert.match(
    applied.stderr,
    /DVM_ACTION_INPUT_INVALID .*Task\/wrong spec\.params\.who: input of action greet: must be a string/,
  );
  assert.match(
    applied.stderr,
    /Task\/wrong spec\.params\.extra: input of action greet: is not an input of greet/,
  );
  assert.match(applied.stderr, /Task\/wrong spec\.onFailure\.mesage: .*did you mean "message"/);
  assert.match(applied.stderr, /nothing was written/);
});

test('results flow into the params of an Action object, and callbacks can run Action objects', () => {
  const home = tempHome();
  const out = join(mkdtempSync(join(tmpdir(), 'dvm-actions-')), 'greetings.txt');
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${HEADER}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: name, domain: ci}
spec: {shell: 'printf "wide world" > "$DVM_RESULTS/v"', results: [{name: v}]}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: hello, domain: ci}
spec:
  action: greet
  params: {who: "$(tasks.name.results.v)", file: ${out}}
  onSuccess: {action: greet, who: callback, file: ${out}}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: greetings, domain: ci}
spec:
  tasks:
    - {name: name, taskRef: name}
    - {name: hello, taskRef: hello, dependsOn: [name]}
`,
  });
  dvmOk(home, ['run', 'workflow', 'greetings']);
  assert.equal(readFileSync(out, 'utf8'), 'hello wide world\nhello callback\n');
});

test('a notify callback without a message says which task ended how, in which run', async () => {
  const received: { message?: string }[] = [];
  const hook = createServer((req, res) => {
    let data = '';
    req.on('data', (d) => {
      data += d;
    });
    req.on('end', () => {
      received.push(JSON.parse(data));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  try {
    const home = tempHome();
    dvmOk(home, ['apply', '-f', '-'], {
      input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: breaks, domain: ci}
spec:
  command: ['false']
  onFailure: {action: notify.alert, severity: high}
`,
    });
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alert`;
    const run = await dvmAsync(home, ['run', 'task', 'breaks'], { env: { DVM_NOTIFY_ALERT_URL: url } });
    assert.equal(run.status, 1, run.stderr);
    const id = runIdOf(run.stderr);
    assert.equal(received.length, 1);
    assert.equal(received[0].message, `Task ci/breaks Failed (ExitCode): run ${id}`);
    // The callback went through the agent: its audit entries name the run, and the hook, in their request id.
    const audited = JSON.parse(dvmOk(home, ['audit', '--action', 'notify.alert', '-o', 'json']).stdout)
      .items as {
      requestId: string;
      decision: string;
    }[];
    assert.deepEqual(
      audited.map((e) => [e.decision, e.requestId]),
      [
        ['allowed', `${id}-onFailure`],
        ['executed', `${id}-onFailure`],
      ],
    );
  } finally {
    hook.close();
  }
});

test('a failing Action masks its secret-named inputs in the run record', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Action
metadata: {name: login}
spec:
  inputs:
    - {name: user, type: string, required: true}
    - {name: db_password, type: string, required: true}
  command: [sh, -c, 'exit 4', sh, "{{ inputs.user }}", "{{ inputs.db_password }}"]
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: uselogin, domain: ci}
spec: {action: login, params: {user: bob, db_password: hunter2-SECRET}}
`,
  });
  const run = dvm(home, ['run', 'task', 'uselogin']);
  assert.equal(run.status, 1);
  const status = dvmOk(home, ['status', 'run', runIdOf(run.stderr), '-o', 'json']).stdout;
  assert.match(status, /bob '\[REDACTED\]' exited with code 4/);
  assert.doesNotMatch(status + run.stdout + run.stderr, /hunter2-SECRET/);
});
