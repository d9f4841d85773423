import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const DEFINITION = `apiVersion: devopsmaestro.io/v1
kind: ResourceDefinition
metadata:
  name: featureflags.mycompany.io
spec:
  group: mycompany.io
  names: {kind: FeatureFlag, plural: featureflags, singular: featureflag, shortNames: [ff]}
  scope: Project
  additionalPrinterColumns:
    - {header: ENABLED, path: spec.enabled}
    - {header: ROLLOUT, path: spec.rolloutPercentage}
  schema:
    type: object
    required: [spec]
    properties:
      spec:
        type: object
        required: [enabled]
        properties:
          enabled: {type: boolean}
          rolloutPercentage: {type: integer, minimum: 0, maximum: 100, default: 100}
          allowedUsers: {type: array, items: {type: string}}
`;
const DOMAIN = `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: web}
spec: {}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: frontend, ecosystem: web}
spec: {}
`;
const FLAG = (spec: string) => `apiVersion: mycompany.io/v1
kind: FeatureFlag
metadata:
  name: new-dashboard
  project: frontend
spec: ${spec}
`;

test('a ResourceDefinition registers a kind usable by every verb under all its names', () => {
  const home = tempHome();
  // Definition and objects in one batch: the kind is known to the batch that defines it.
  const out = dvmOk(home, ['apply', '-f', '-'], {
    input: `${DOMAIN}---\n${DEFINITION}---\n${FLAG('{enabled: true}')}`,
  });
  assert.match(out.stdout, /^featureflag\/new-dashboard created$/m);
  assert.match(out.stderr, /metadata\.project is deprecated; use metadata\.domain/);
  for (const name of ['featureflags', 'featureflag', 'ff', 'FeatureFlag']) {
    assert.match(
      dvmOk(home, ['get', name, '-A']).stdout,
      /^new-dashboard\s+web\s+frontend\s+true\s+100\s+\d+s$/m,
      name,
    );
  }
  // Schema defaults fill the effective form, not the applied one.
  assert.equal(
    JSON.parse(dvmOk(home, ['get', 'ff', 'new-dashboard', '-o', 'json', '--effective']).stdout).spec
      .rolloutPercentage,
    100,
  );
  assert.equal(
    JSON.parse(dvmOk(home, ['get', 'ff', 'new-dashboard', '-o', 'json']).stdout).spec.rolloutPercentage,
    undefined,
  );
  assert.match(
    dvmOk(home, ['api-resources']).stdout,
    /^featureflags\s+ff\s+mycompany\.io\/v1\s+Domain\s+FeatureFlag$/m,
  );
  assert.match(dvmOk(home, ['explain', 'ff.spec']).stdout, /rolloutPercentage\t<integer>/);
});

test('objects of a user-defined kind are validated by its schema, unknown fields included', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: `${DOMAIN}---\n${DEFINITION}` });
  const run = dvm(home, ['apply', '-f', '-'], { input: FLAG('{rolloutPercentage: 250, enabeld: true}') });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /spec\.enabled: missing required field "enabled"/);
  assert.match(run.stderr, /spec\.rolloutPercentage: must be <= 100/);
  assert.match(run.stderr, /spec\.enabeld: unknown field "enabeld" \(did you mean "enabled"\?\)/);
});

test('a definition with live objects cannot be deleted, even with --force', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: `${DOMAIN}---\n${DEFINITION}---\n${FLAG('{enabled: false}')}` });
  for (const flags of [[], ['--force']]) {
    const run = dvm(home, ['delete', 'rd', 'featureflags.mycompany.io', ...flags]);
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /DVM_IN_USE: ResourceDefinition\/featureflags\.mycompany\.io defines kind FeatureFlag, which still has 1 object/,
    );
  }
  dvmOk(home, ['delete', 'ff', 'new-dashboard']);
  dvmOk(home, ['delete', 'rd', 'featureflags.mycompany.io']);
  assert.equal(dvm(home, ['get', 'ff']).status, 1);
});

test("a definition may not take a built-in kind's names, and its schema must compile", () => {
  const home = tempHome();
  const clash = DEFINITION.replace('shortNames: [ff]', 'shortNames: [wf]');
  assert.match(
    dvm(home, ['apply', '-f', '-'], { input: clash }).stderr,
    /"wf" is already a name of the built-in kind Workflow/,
  );
  const badSchema = DEFINITION.replace('enabled: {type: boolean}', 'enabled: {type: bool}');
  assert.match(
    dvm(home, ['apply', '-f', '-'], { input: badSchema }).stderr,
    /DVM_SCHEMA_INVALID .*spec\.schema: spec\.schema is not a valid JSON Schema/,
  );
});

test('changing a definition revalidates the stored objects of its kind', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${DOMAIN}---\n${DEFINITION}---\n${FLAG('{enabled: true, rolloutPercentage: 50}')}`,
  });
  const stricter = DEFINITION.replace('maximum: 100, default: 100', 'maximum: 40, default: 10');
  const run = dvm(home, ['apply', '-f', '-'], { input: stricter });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /FeatureFlag\/new-dashboard spec\.rolloutPercentage: must be <= 40/);
  // A new defaulted field changes the effective form of the stored flag.
  const looser = DEFINITION.replace(
    'allowedUsers: {type: array, items: {type: string}}',
    'allowedUsers: {type: array, items: {type: string}}\n          owner: {type: string, default: web-team}',
  );
  assert.match(
    dvmOk(home, ['apply', '-f', '-'], { input: looser }).stdout,
    /^featureflag\/new-dashboard configured \(via ResourceDefinition\/featureflags\.mycompany\.io\)$/m,
  );
});
