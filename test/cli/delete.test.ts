import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const PLATFORM = 'test/fixtures/platform.yaml';

test('deleting a referenced object is refused with its referrers; --force overrides', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const refused = dvm(home, ['delete', 'task', 'lint']);
  assert.equal(refused.status, 1);
  assert.match(
    refused.stderr,
    /^error: DVM_IN_USE: 1 reference\(s\) would break: Workflow\/ci \(in acme\/payments\) at spec\.tasks\[0\]\.taskRef/m,
  );
  assert.match(refused.stderr, /--force/);
  assert.match(dvmOk(home, ['get', 'tasks', '-A', '-o', 'name']).stdout, /task\/lint/);
  assert.match(
    dvmOk(home, ['delete', 'task', 'lint', '--force']).stdout,
    /^task\/lint \(acme\/payments\) deleted$/m,
  );
  assert.doesNotMatch(dvmOk(home, ['get', 'tasks', '-A', '-o', 'name']).stdout, /lint/);
});

test('a container with children needs --cascade, which deletes everything inside', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const refused = dvm(home, ['delete', 'domain', 'payments']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /DVM_IN_USE: Domain\/payments \(in acme\) contains 5 object\(s\)/);
  const deleted = dvmOk(home, ['delete', 'domain', 'payments', '--cascade']).stdout;
  assert.equal(deleted.trim().split('\n').length, 6);
  assert.equal(dvmOk(home, ['get', 'apps', '-A', '-o', 'name']).stdout, 'app/api\napp/web\n');
  assert.match(dvm(home, ['get', 'workflows', '-A']).stderr, /No resources found/);
});

test('a referenced definition shared by an instance is protected; cascade still checks outside referrers', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  // The ecosystem's instance shared-db uses Dependency/postgres; App payments/api uses the instance.
  assert.match(
    dvm(home, ['delete', 'dependency', 'postgres']).stderr,
    /Ecosystem\/acme at spec\.dependencies\[0\]\.ref/,
  );
  // Cascading the whole ecosystem takes its apps along, so only the outside Dependency stays.
  dvmOk(home, ['delete', 'ecosystem', 'acme', '--cascade']);
  assert.equal(dvmOk(home, ['get', 'dependencies', '-o', 'name']).stdout, 'dependency/postgres\n');
  dvmOk(home, ['delete', 'dependency', 'postgres']);
});

test('delete -f deletes what a file names; a missing object is DVM_NOT_FOUND and nothing is deleted', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const pipeline =
    'apiVersion: devopsmaestro.io/v1\nkind: Pipeline\nmetadata: {name: ci-pipeline, domain: payments}\nspec: {stages: []}\n';
  const missing =
    'apiVersion: devopsmaestro.io/v1\nkind: Pipeline\nmetadata: {name: nope, domain: payments}\nspec: {stages: []}\n';
  const run = dvm(home, ['delete', '-f', '-'], { input: `${pipeline}---\n${missing}` });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_NOT_FOUND <stdin>:8:\d+ Pipeline\/nope metadata\.name: Pipeline\/nope does not exist/,
  );
  assert.match(dvmOk(home, ['get', 'pipelines', '-A', '-o', 'name']).stdout, /ci-pipeline/);
  assert.match(
    dvmOk(home, ['delete', '-f', '-'], { input: pipeline }).stdout,
    /pipeline\/ci-pipeline \(acme\/payments\) deleted/,
  );
});

test('changing an object so that stored referrers would break is refused', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  // payments/api uses the ecosystem's shared-db instance: dropping the instance must fail.
  const run = dvm(home, ['apply', '-f', '-'], {
    input: 'apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: acme}\nspec: {}\n',
  });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_REF_NOT_FOUND <stored App\/api> App\/api spec\.dependencies\[0\]\.ref: dependency "shared-db"/,
  );
});
