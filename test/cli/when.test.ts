import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import { LAB_CI, runIdOf, runTree } from '../helpers/runs.ts';

interface Run {
  node: string;
  status: string;
  reason?: string;
}

test('when conditions compare result and env values exactly, with && || and !', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', 'test/fixtures/when.yaml']);
  const run = dvm(home, ['run', 'workflow', 'conditions'], { env: { BRANCH: 'main' } });
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const id = run.stderr.match(/^run (r\S+):/m)?.[1] ?? '';
  const items = JSON.parse(dvmOk(home, ['status', 'run', id, '-o', 'json']).stdout).items as Run[];
  const status = Object.fromEntries(items.map((r) => [r.node, r.status]));
  assert.deepEqual(status, {
    conditions: 'Succeeded',
    'conditions/check': 'Succeeded',
    // "'$(tasks.check.results.changed)' == 'yes'", as the README writes it.
    'conditions/if-changed': 'Succeeded',
    // A value with an apostrophe.
    'conditions/if-done': 'Succeeded',
    'conditions/if-main': 'Succeeded',
    'conditions/if-not': 'Skipped',
  });
});

test('a when that cannot be read is refused at apply time with the task, field and column', () => {
  const home = tempHome();
  const bad = `apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: lab}\n---\napiVersion: devopsmaestro.io/v1\nkind: Domain\nmetadata: {name: ci, ecosystem: lab}\n---\napiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: single-equals, domain: ci}\nspec:\n  command: [echo, x]\n  when: "'a' = 'a'"\n---\napiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: open-paren, domain: ci}\nspec:\n  command: [echo, x]\n  when: "('a' == 'a' && yes"\n`;
  const run = dvm(home, ['apply', '-f', '-'], { input: bad });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_SCHEMA_INVALID <stdin>:14:3 Task\/single-equals spec\.when: cannot read the condition "'a' = 'a'": a lone = \(write == to compare\) at column 5/,
  );
  assert.match(
    run.stderr,
    /DVM_SCHEMA_INVALID <stdin>:21:3 Task\/open-paren spec\.when: .*a closing parenthesis expected, found the end at column 19/,
  );
});

test('a task that uses a result of a task its when skipped is skipped too; one that only depends on it runs', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: produce, domain: ci}
spec: {shell: 'printf 1 > "$DVM_RESULTS/v"', results: [{name: v}], when: "false"}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: consume, domain: ci}
spec: {command: [echo, "$(tasks.produce.results.v)"], results: [{name: w}]}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: consume-again, domain: ci}
spec: {command: [echo, "$(tasks.consume.results.w)"]}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: after, domain: ci}
spec: {command: [echo, after]}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: optional, domain: ci}
spec:
  tasks:
    - {name: produce, taskRef: produce}
    - {name: consume, taskRef: consume, dependsOn: [produce]}
    - {name: consume-again, taskRef: consume-again, dependsOn: [consume]}
    - {name: after, taskRef: after, dependsOn: [produce]}
`,
  });
  const run = dvm(home, ['run', 'workflow', 'optional']);
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const tree = runTree<Run>(home, runIdOf(run.stderr));
  const outcome = (node: string) => `${tree.get(node)?.status} ${tree.get(node)?.reason ?? ''}`.trim();
  assert.deepEqual(
    ['produce', 'consume', 'consume-again', 'after', ''].map((n) =>
      outcome(n ? `optional/${n}` : 'optional'),
    ),
    ['Skipped WhenFalse', 'Skipped ResultUnavailable', 'Skipped ResultUnavailable', 'Succeeded', 'Succeeded'],
  );
});

test('a task that uses a result of a task that failed under continueOnError is skipped, not failed', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: produce, domain: ci}
spec: {shell: 'exit 3', results: [{name: v}]}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: consume, domain: ci}
spec: {command: [echo, "$(tasks.produce.results.v)"]}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: tolerant, domain: ci}
spec:
  tasks:
    - {name: produce, taskRef: produce, continueOnError: true}
    - {name: consume, taskRef: consume, dependsOn: [produce]}
`,
  });
  const run = dvm(home, ['run', 'workflow', 'tolerant']);
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const consume = runTree<Run & { message?: string }>(home, runIdOf(run.stderr)).get('tolerant/consume');
  assert.deepEqual([consume?.status, consume?.reason], ['Skipped', 'ResultUnavailable']);
  assert.equal(consume?.message, 'it uses a result of produce, which ended Failed');
});
