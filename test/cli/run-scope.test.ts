import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import { LAB_CI, runIdOf } from '../helpers/runs.ts';

// Runs belong to the scope of what they ran: `status KIND NAME` and `get runs` honour -e/-d like `get`.

const SAME_NAMES = `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: eco}
${['d1', 'd2']
  .map(
    (d) => `---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: ${d}, ecosystem: eco}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: t, ecosystem: eco, domain: ${d}}
spec: {shell: ${d === 'd1' ? '"echo d1"' : '"echo d2; exit 1"'}}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: w, ecosystem: eco, domain: ${d}}
spec: {tasks: [{name: t, taskRef: t}]}
---
apiVersion: devopsmaestro.io/v1
kind: Pipeline
metadata: {name: ci, ecosystem: eco, domain: ${d}}
spec: {stages: [{name: s, workflowRef: w}]}
`,
  )
  .join('')}`;

test('status pipeline NAME -d D and get runs -d D show the runs of that domain only', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: SAME_NAMES });
  const d1 = runIdOf(dvmOk(home, ['run', 'pipeline', 'ci', '-d', 'd1']).stderr);
  const failed = dvm(home, ['run', 'pipeline', 'ci', '-d', 'd2']);
  assert.equal(failed.status, 1);
  const d2 = runIdOf(failed.stderr);

  const status = dvmOk(home, ['status', 'pipeline', 'ci', '-d', 'd1']).stdout;
  assert.match(status, new RegExp(`^run ${d1} `));
  assert.match(status, /^pipeline\/ci {2}Succeeded/m);
  assert.match(
    dvmOk(home, ['status', 'pipeline', 'ci', '-e', 'eco', '-d', 'd2']).stdout,
    new RegExp(`^run ${d2} `),
  );
  const ambiguous = dvm(home, ['status', 'pipeline', 'ci']);
  assert.equal(ambiguous.status, 1);
  assert.match(ambiguous.stderr, /DVM_AMBIGUOUS: pipeline "ci" exists in 2 scopes: eco\/d1, eco\/d2/);

  const ids = (args: string[]) =>
    (JSON.parse(dvmOk(home, ['get', 'runs', '-o', 'json', ...args]).stdout).items as { id: string }[]).map(
      (r) => r.id,
    );
  assert.deepEqual(ids(['-d', 'd1']), [d1]);
  assert.deepEqual(ids(['-d', 'd2']), [d2]);
  assert.deepEqual(ids([]), [d2, d1]);
  // Listed together, runs of different domains say which is which.
  const table = dvmOk(home, ['get', 'runs']).stdout;
  assert.match(table, /^ID\s+RUNS\s+DOMAIN\s+STATUS/);
  assert.match(table, new RegExp(`^${d1}\\s+pipeline/ci\\s+d1\\s+Succeeded`, 'm'));
  assert.match(table, new RegExp(`^${d2}\\s+pipeline/ci\\s+d2\\s+Failed`, 'm'));
  // A word of its own: a run id's random hex may hold "d2" (r20261130-172347-1d2644).
  assert.doesNotMatch(dvmOk(home, ['get', 'runs', '-d', 'd1']).stdout, /DOMAIN|\bd2\b/);
  assert.match(
    dvmOk(home, ['get', 'runs', '-d', 'd1', '-A']).stdout,
    /^ID\s+RUNS\s+ECOSYSTEM\s+DOMAIN\s+STATUS/,
  );
});

test('a reference that a later object made ambiguous is DVM_AMBIGUOUS at run time, naming both, not "deleted with --force"', () => {
  const home = tempHome();
  const pipeline = (domain: string) => `---
apiVersion: devopsmaestro.io/v1
kind: Pipeline
metadata: {name: ship, domain: ${domain}}
spec: {stages: [{name: s, workflowRef: ci/w}]}
`;
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: ops, ecosystem: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: t, domain: ci}
spec: {command: ["true"]}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: w, domain: ci}
spec: {tasks: [{name: t, taskRef: t}]}
${pipeline('ci')}---
apiVersion: devopsmaestro.io/v1
kind: Orchestration
metadata: {name: all, ecosystem: lab}
spec: {pipelines: [{name: x, pipelineRef: ship}]}
`,
  });
  dvmOk(home, ['run', 'orchestration', 'all']);
  dvmOk(home, ['apply', '-f', '-'], { input: pipeline('ops') });
  const run = dvm(home, ['run', 'orchestration', 'all']);
  assert.equal(run.status, 1, run.stderr);
  assert.match(
    run.stderr,
    /DVM_AMBIGUOUS: Orchestration\/all spec\.pipelines\[0\]\.pipelineRef: "ship" matches 2 objects: Pipeline\/ship in lab\/(ci|ops), Pipeline\/ship in lab\/(ci|ops)/,
  );
  assert.match(run.stderr, /fix: Qualify the reference as DOMAIN\/NAME/);
});

test('status pipeline NAME shows its latest run also when a job ran it, as the part of that run', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${SAME_NAMES}---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: nightly, ecosystem: eco, domain: d1}
spec: {runs: ci}
`,
  });
  const direct = runIdOf(dvmOk(home, ['run', 'pipeline', 'ci', '-d', 'd1']).stderr);
  const byJob = runIdOf(dvmOk(home, ['run', 'job', 'nightly', '-d', 'd1']).stderr);
  const status = dvmOk(home, ['status', 'pipeline', 'ci', '-d', 'd1']).stdout;
  assert.match(status, new RegExp(`^run ${byJob}\\.\\d+ \\(in job/nightly run ${byJob}\\)`));
  assert.match(status, /^pipeline\/ci {2}Succeeded/m);
  assert.doesNotMatch(status, /nightly {2}Succeeded/, 'the tree is the pipeline, not the job');
  assert.notEqual(direct, byJob);
  // The other domain's pipeline of the same name has a run of its own only.
  assert.equal(dvm(home, ['status', 'pipeline', 'ci', '-d', 'd2']).status, 1);
});
