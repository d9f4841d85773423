import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const PLATFORM = 'test/fixtures/platform.yaml';

test('apply creates, then reports unchanged, then configured; generation and resourceVersion move', () => {
  const home = tempHome();
  const first = dvmOk(home, ['apply', '-f', PLATFORM]);
  assert.match(first.stdout, /^ecosystem\/acme created$/m);
  assert.match(first.stdout, /^workflow\/ci created$/m);
  assert.equal(first.stdout.trim().split('\n').length, 12);
  const again = dvmOk(home, ['apply', '-f', PLATFORM]);
  assert.equal(again.stdout.match(/unchanged/g)?.length, 12);
  const before = JSON.parse(dvmOk(home, ['get', 'app', 'api', '-d', 'payments', '-o', 'json']).stdout);
  assert.equal(before.metadata.generation, 1);
  const changed = `apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: api, domain: payments, labels: {tier: backend}}
spec:
  path: ./elsewhere
  dependencies: [{ref: shared-db}]
`;
  assert.match(dvmOk(home, ['apply', '-f', '-'], { input: changed }).stdout, /^app\/api configured$/m);
  const after = JSON.parse(dvmOk(home, ['get', 'app', 'api', '-d', 'payments', '-o', 'json']).stdout);
  assert.equal(after.metadata.generation, 2);
  assert.equal(after.metadata.uid, before.metadata.uid);
  assert.ok(Number(after.metadata.resourceVersion) > Number(before.metadata.resourceVersion));
});

test('an invalid batch reports every problem with file:line:col, and writes nothing', () => {
  const home = tempHome();
  const bad = `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: shop}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: orders, ecosystem: shop}
spec:
  dataStorez: []
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: lint, domain: orders}
spec:
  command: [npm, run, lint]
  timeout: 5 minutes
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: ci, domain: orders}
spec:
  tasks:
    - {name: a, taskRef: lint, dependsOn: [c]}
    - {name: b, taskRef: lint, dependsOn: [a]}
    - {name: c, taskRef: lint, dependsOn: [b]}
    - {name: d, taskRef: lnt}
`;
  const run = dvm(home, ['apply', '-f', '-'], { input: bad });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^error: DVM_INVALID: 4 problems/m);
  assert.match(
    run.stderr,
    /DVM_SCHEMA_INVALID <stdin>:9:3 Domain\/orders spec\.dataStorez: unknown field "dataStorez" \(did you mean "dataStores"\?\)/,
  );
  assert.match(
    run.stderr,
    /DVM_SCHEMA_INVALID <stdin>:16:3 Task\/lint spec\.timeout: "5 minutes" is not a duration like 500ms, 30s, 5m, 1h30m or 7d/,
  );
  assert.match(
    run.stderr,
    /DVM_DAG_CYCLE <stdin>:22:3 Workflow\/ci spec\.tasks: dependsOn forms a cycle: (a|b|c) → .* → \1/,
  );
  assert.match(
    run.stderr,
    /DVM_REF_NOT_FOUND <stdin>:26:\d+ Workflow\/ci spec\.tasks\[3\]\.taskRef: Task "lnt" not found from shop\/orders \(did you mean "lint"\?\)/,
  );
  // Atomic: the valid Ecosystem of the same batch was not written either.
  assert.match(dvm(home, ['get', 'ecosystems']).stderr, /No resources found/);
});

test('YAML syntax errors carry file:line:col', () => {
  const home = tempHome();
  const run = dvm(home, ['apply', '-f', '-'], {
    input: 'apiVersion: devopsmaestro.io/v1\nkind: App\nmetadata:\n  name: [x\n',
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^error: DVM_YAML_SYNTAX <stdin>:\d+:\d+/m);
});

test('unknown kinds are suggested, wrong apiVersions are named', () => {
  const home = tempHome();
  const run = dvm(home, ['apply', '-f', '-'], {
    input:
      'apiVersion: devopsmaestro.io/v1\nkind: Pipline\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Runtime\nmetadata: {name: y}\nspec: {}\n',
  });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_KIND_UNKNOWN <stdin>:2:1 Pipline\/x kind: unknown kind "Pipline" \(did you mean "Pipeline"\?\)/,
  );
  assert.match(
    run.stderr,
    /DVM_API_VERSION <stdin>:5:1 Runtime\/y apiVersion: Runtime is served as apiVersion devopsmaestro.io\/v1/,
  );
});

test('a stale resourceVersion is a conflict, the current one applies', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const current = dvmOk(home, ['get', 'task', 'lint', '-d', 'payments', '-o', 'yaml']).stdout;
  const edited = current
    .replace('go, vet', 'golangci-lint, run')
    .replace('- go\n    - vet\n    - ./...', '- golangci-lint\n    - run');
  assert.notEqual(edited, current);
  assert.match(dvmOk(home, ['apply', '-f', '-'], { input: edited }).stdout, /task\/lint configured/);
  // Applying the same (now stale) resourceVersion again is refused.
  const stale = dvm(home, ['apply', '-f', '-'], { input: current });
  assert.equal(stale.status, 1);
  assert.match(
    stale.stderr,
    /DVM_CONFLICT .*Task\/lint metadata\.resourceVersion: Task\/lint is at resourceVersion \d+, not \d+/,
  );
});

test('the same object twice in one batch is a duplicate', () => {
  const home = tempHome();
  const doc =
    'apiVersion: devopsmaestro.io/v1\nkind: Dependency\nmetadata: {name: redis}\nspec: {image: redis:7}\n';
  const run = dvm(home, ['apply', '-f', '-'], { input: `${doc}---\n${doc}` });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_DUPLICATE <stdin>:6:1 Dependency\/redis: Dependency\/redis is also defined at <stdin>:1/,
  );
});

test('--dry-run validates and reports but writes nothing; diff shows the change and exits 1', () => {
  const home = tempHome();
  const dry = dvmOk(home, ['apply', '-f', PLATFORM, '--dry-run']);
  assert.match(dry.stdout, /app\/api created \(dry run\)/);
  assert.match(dvm(home, ['get', 'apps', '-A']).stderr, /No resources found/);
  dvmOk(home, ['apply', '-f', PLATFORM]);
  assert.equal(dvm(home, ['diff', '-f', PLATFORM]).status, 0);
  const diff = dvm(home, ['diff', '-f', '-'], {
    input:
      'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: test, domain: payments}\nspec:\n  command: go test -race ./...\n',
  });
  assert.equal(diff.status, 1);
  assert.match(diff.stdout, /^- {2}command: go test \.\/\.\.\.$/m);
  assert.match(diff.stdout, /^\+ {2}command: go test -race \.\/\.\.\.$/m);
  // An error is not "something differs": exit 2, as kubectl diff.
  const missing = dvm(home, ['diff', '-f', 'no-such-file.yaml']);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /DVM_FILE_NOT_FOUND/);
});

test('apply, delete and diff of input without objects are DVM_NO_OBJECTS, as kubectl: an empty pipe, comments only, a directory without YAML', () => {
  const home = tempHome();
  const empty = mkdtempSync(join(tmpdir(), 'dvm-empty-dir-'));
  for (const [args, input] of [
    [['apply', '-f', '-'], ''],
    [['apply', '-f', '-'], '---\n# nothing here\n---\n'],
    [['apply', '-f', empty], undefined],
    [['delete', '-f', '-'], ''],
    [['diff', '-f', empty], undefined],
  ] as const) {
    const run = dvm(home, [...args], input === undefined ? {} : { input });
    // diff exits 2 on errors (1 means "differs"), as kubectl diff.
    assert.equal(run.status, args[0] === 'diff' ? 2 : 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`DVM_NO_OBJECTS: no objects passed to ${args[0]}`));
    assert.match(run.stderr, /fix: /);
  }
});

test('placement: a missing parent is inferred when unique, ambiguous otherwise, and flags pick it', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const task =
    'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: deploy}\nspec: {command: [make, deploy]}\n';
  const ambiguous = dvm(home, ['apply', '-f', '-'], { input: task });
  assert.equal(ambiguous.status, 1);
  assert.match(
    ambiguous.stderr,
    /DVM_SCOPE_REQUIRED .*Task objects live in a domain, and none was given \(candidates: acme\/identity, acme\/payments\)/,
  );
  assert.match(ambiguous.stderr, /metadata\.domain \(or -d\)/);
  assert.match(
    dvmOk(home, ['apply', '-f', '-', '-d', 'identity'], { input: task }).stdout,
    /task\/deploy created/,
  );
  assert.equal(
    JSON.parse(dvmOk(home, ['get', 'task', 'deploy', '-o', 'json']).stdout).metadata.domain,
    'identity',
  );
});

test('references resolve upward and across domains when qualified', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const orchestration = `apiVersion: devopsmaestro.io/v1
kind: Orchestration
metadata: {name: all, ecosystem: acme}
spec:
  pipelines:
    - {name: pay, pipelineRef: payments/ci-pipeline}
    - {name: id, pipelineRef: identity/ci-pipeline, dependsOn: [pay]}
`;
  const run = dvm(home, ['apply', '-f', '-'], { input: orchestration });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_REF_NOT_FOUND .*spec\.pipelines\[1\]\.pipelineRef: Pipeline "identity\/ci-pipeline" not found/,
  );
  assert.doesNotMatch(run.stderr, /pipelines\[0\]/);
  const fixed = orchestration.replace(
    '    - {name: id, pipelineRef: identity/ci-pipeline, dependsOn: [pay]}\n',
    '',
  );
  assert.match(dvmOk(home, ['apply', '-f', '-'], { input: fixed }).stdout, /orchestration\/all created/);
  assert.match(
    dvmOk(home, ['describe', 'pipeline', 'ci-pipeline']).stdout,
    /Orchestration\/all \(spec\.pipelines\[0\]\.pipelineRef\)/,
  );
});

test('a DataLake seedOrder must name stores it contains', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const lake = `apiVersion: devopsmaestro.io/v1
kind: DataStore
metadata: {name: users, domain: identity}
spec:
  target: {dependencyRef: shared-db, table: users}
  schema: {fields: [{name: id, type: string, primary: true}]}
---
apiVersion: devopsmaestro.io/v1
kind: DataLake
metadata: {name: it-data, ecosystem: acme}
spec:
  dataStores: [{ref: identity/users}]
  seedOrder: [users, payments]
`;
  const run = dvm(home, ['apply', '-f', '-'], { input: lake });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_SEED_ORDER <stdin>:13:\d+ DataLake\/it-data spec\.seedOrder\[1\]: seedOrder names "payments", which is not in spec\.dataStores/,
  );
});

test('a domain resolves its own references from inside itself, not from a sibling domain', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const store = (domain: string) =>
    `apiVersion: devopsmaestro.io/v1\nkind: DataStore\nmetadata: {name: customers, domain: ${domain}}\nspec:\n  target: {dependencyRef: shared-db, table: customers}\n  schema: {fields: [{name: id, type: string, primary: true}]}\n`;
  dvmOk(home, ['apply', '-f', '-'], { input: store('identity') });
  const payments =
    'apiVersion: devopsmaestro.io/v1\nkind: Domain\nmetadata: {name: payments, ecosystem: acme}\nspec:\n  dataStores: [{ref: customers}]\n';
  // identity has a "customers", payments does not: the reference must not silently bind to identity's.
  const run = dvm(home, ['apply', '-f', '-'], { input: payments });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /DataStore "customers" not found from acme\/payments/);
  dvmOk(home, ['apply', '-f', '-'], { input: `${store('payments')}---\n${payments}` });
  assert.match(
    dvmOk(home, ['describe', 'datastore', 'customers', '-d', 'payments']).stdout,
    /Domain\/payments \(spec\.dataStores\[0\]\.ref\)/,
  );
  assert.match(
    dvmOk(home, ['describe', 'datastore', 'customers', '-d', 'identity']).stdout,
    /Referenced by:\n {2}<none>/,
  );
});

test('defaults with keys named like Object.prototype members are plain data', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const domain =
    'apiVersion: devopsmaestro.io/v1\nkind: Domain\nmetadata: {name: payments, ecosystem: acme}\nspec:\n  defaults: {toString: {a: 1}, language: go}\n';
  const run = dvm(home, ['apply', '-f', '-'], { input: domain });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /App\/api spec\.toString: unknown field "toString" \(inherited from Domain\/payments \(spec\.defaults\)\)/,
  );
  assert.doesNotMatch(run.stderr, /DVM_INTERNAL/);
});

test('concurrent applies to one store both land (WAL + immediate transactions), nothing is lost', async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const { spawn } = await import('node:child_process');
  const { DVM_BIN } = await import('../helpers/dvm.ts');
  const batch = (prefix: string) =>
    Array.from(
      { length: 40 },
      (_, i) =>
        `apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: ${prefix}-${i}, domain: payments}\nspec: {command: [make, t${i}]}\n`,
    ).join('---\n');
  const run = (input: string) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [DVM_BIN, 'apply', '-f', '-'], {
        env: { ...process.env, DVM_HOME: home },
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      child.on('exit', (code) => resolve(code ?? -1));
      child.stdin.end(input);
    });
  const codes = await Promise.all([run(batch('a')), run(batch('b')), run(batch('c'))]);
  assert.deepEqual(codes, [0, 0, 0]);
  const names = dvmOk(home, ['get', 'tasks', '-d', 'payments', '-o', 'name']).stdout.trim().split('\n');
  assert.equal(names.length, 2 + 120);
});
