import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import { LAB_CI } from '../helpers/runs.ts';

// A workflow whose `stamp` task caches on its inputs and takes an upstream result through `env:`; its command is
// the same whatever outputs and results it declares.
function platform(work: string, stampOutputs: string[], stampResults: string[]): string {
  return `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: version, domain: ci}
spec:
  workdir: ${work}
  shell: cat version.txt > "$DVM_RESULTS/v"
  results: [{name: v}]
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: stamp, domain: ci}
spec:
  workdir: ${work}
  env: [{name: V, value: "$(tasks.version.results.v)"}]
  shell: for f in stamped.txt o1 o2; do echo "version=$V" > "$f"; done; for r in done r1 r2; do printf ok > "$DVM_RESULTS/$r"; done
  inputs: [static.txt]
  outputs: ${JSON.stringify(stampOutputs)}
  results: ${JSON.stringify(stampResults.map((name) => ({ name })))}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: release, domain: ci}
spec:
  tasks:
    - {name: version, taskRef: version}
    - {name: stamp, taskRef: stamp, dependsOn: [version]}
`;
}

function stampRun(home: string): { status: string; results: Record<string, string> } {
  const run = dvmOk(home, ['run', 'workflow', 'release', '-o', 'json']);
  const id = run.stdout.match(/"rootId":"(r[^"]+)"/)?.[1];
  assert.ok(id, run.stdout);
  const items = JSON.parse(dvmOk(home, ['status', 'run', id, '-o', 'json']).stdout).items as {
    node: string;
    status: string;
    results: Record<string, string>;
  }[];
  const stamp = items.find((r) => r.node === 'release/stamp');
  assert.ok(stamp, JSON.stringify(items));
  return stamp;
}

test('an upstream result passed through env: is part of the cache fingerprint', () => {
  const home = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'dvm-cache-'));
  writeFileSync(join(work, 'static.txt'), 'unchanged');
  writeFileSync(join(work, 'version.txt'), '1.0');
  dvmOk(home, ['apply', '-f', '-'], { input: platform(work, ['stamped.txt'], ['done']) });
  assert.equal(stampRun(home).status, 'Succeeded');
  assert.equal(stampRun(home).status, 'Cached');
  writeFileSync(join(work, 'version.txt'), '2.0');
  assert.equal(stampRun(home).status, 'Succeeded');
  assert.equal(readFileSync(join(work, 'stamped.txt'), 'utf8'), 'version=2.0\n');
});

test('changing the declared outputs or results of a task re-runs it instead of restoring the old ones', () => {
  const home = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'dvm-cache-'));
  writeFileSync(join(work, 'static.txt'), 'unchanged');
  writeFileSync(join(work, 'version.txt'), '1.0');
  dvmOk(home, ['apply', '-f', '-'], { input: platform(work, ['o1'], ['r1']) });
  assert.equal(stampRun(home).status, 'Succeeded');
  assert.equal(stampRun(home).status, 'Cached');
  dvmOk(home, ['apply', '-f', '-'], { input: platform(work, ['o1', 'o2'], ['r1', 'r2']) });
  const rerun = stampRun(home);
  assert.equal(rerun.status, 'Succeeded');
  assert.deepEqual(rerun.results, { r1: 'ok', r2: 'ok' });
  assert.equal(readFileSync(join(work, 'o2'), 'utf8'), 'version=1.0\n');
});

test('a result over 1 MiB fails its task with DVM_RESULT_TOO_LARGE instead of filling the run records', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: big, domain: ci}
spec:
  shell: head -c 1048577 /dev/zero | tr '\\\\0' x > "$DVM_RESULTS/blob"
  results: [{name: blob}]
`,
  });
  const run = dvm(home, ['run', 'task', 'big', '-o', 'json']);
  assert.equal(run.status, 1, run.stderr);
  const id = run.stdout.match(/"rootId":"(r[^"]+)"/)?.[1];
  assert.ok(id, run.stdout);
  const [task] = JSON.parse(dvmOk(home, ['status', 'run', id, '-o', 'json']).stdout).items as {
    status: string;
    reason: string;
    results: Record<string, string>;
  }[];
  assert.deepEqual([task.status, task.reason, task.results], ['Failed', 'DVM_RESULT_TOO_LARGE', {}]);
});
