import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const PLATFORM = 'test/fixtures/platform.yaml';

test('describe shows the effective spec and where each inherited field came from', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const fromTemplate = dvmOk(home, ['describe', 'app', 'api', '-d', 'identity']).stdout;
  assert.match(fromTemplate, /^ {2}spec\.language\s+from Template\/node-service$/m);
  assert.match(fromTemplate, /^ {2}spec\.healthCheck\.path\s+from Template\/node-service$/m);
  assert.doesNotMatch(fromTemplate, /spec\.healthCheck\.port\s+from/);
  const fromDomain = dvmOk(home, ['describe', 'app', 'api', '-d', 'payments']).stdout;
  assert.match(fromDomain, /^ {2}spec\.languageVersion\s+from Domain\/payments \(spec\.defaults\)$/m);
  assert.match(dvmOk(home, ['describe', 'template', 'node-service']).stdout, /App\/api \(spec\.template\)/);
});

test('changing a template reconfigures the objects that use it; a template that breaks them is refused', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const template = (defaults: string) =>
    `apiVersion: devopsmaestro.io/v1\nkind: Template\nmetadata: {name: node-service}\nspec:\n  targetKind: App\n  defaults: ${defaults}\n`;
  const out = dvmOk(home, ['apply', '-f', '-'], { input: template('{language: javascript}') }).stdout;
  assert.match(out, /^app\/api configured \(via Template\/node-service\)$/m);
  const effective = JSON.parse(
    dvmOk(home, ['get', 'app', 'api', '-d', 'identity', '-o', 'json', '--effective']).stdout,
  );
  assert.equal(effective.spec.language, 'javascript');
  assert.equal(effective.spec.healthCheck.path, undefined);
  const broken = dvm(home, ['apply', '-f', '-'], { input: template('{langauge: javascript}') });
  assert.equal(broken.status, 1);
  assert.match(
    broken.stderr,
    /App\/api spec\.langauge: unknown field "langauge" \(did you mean "language"\?\) \(inherited from Template\/node-service\)/,
  );
});

test('a template for another kind is refused', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', PLATFORM]);
  const run = dvm(home, ['apply', '-f', '-'], {
    input:
      'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: t, domain: payments}\nspec: {template: node-service, command: [true]}\n',
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /DVM_TEMPLATE_MISMATCH .*Template "node-service" is for App, not Task/);
});

test("a template's defaults are checked against its target kind when it is applied", () => {
  const home = tempHome();
  const run = dvm(home, ['apply', '-f', '-'], {
    input:
      'apiVersion: devopsmaestro.io/v1\nkind: Template\nmetadata: {name: t}\nspec:\n  targetKind: App\n  defaults:\n    langauge: go\n    ports: [{containerPort: "80"}]\n---\napiVersion: devopsmaestro.io/v1\nkind: Template\nmetadata: {name: u}\nspec: {targetKind: Ap, defaults: {}}\n',
  });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /<stdin>:7:5 Template\/t spec\.defaults\.langauge: unknown field "langauge" \(did you mean "language"\?\) \(for App\)/,
  );
  assert.match(
    run.stderr,
    /Template\/t spec\.defaults\.ports\[0\]\.containerPort: must be an integer, not a string \(for App\)/,
  );
  assert.match(
    run.stderr,
    /DVM_KIND_UNKNOWN .*Template\/u spec\.targetKind: targetKind "Ap" is not a kind \(did you mean "App"\?\)/,
  );
  // A template may leave out what its users supply (App has no required spec fields, Task needs no command here).
  dvmOk(home, ['apply', '-f', '-'], {
    input:
      'apiVersion: devopsmaestro.io/v1\nkind: Template\nmetadata: {name: w}\nspec: {targetKind: Workflow, defaults: {onComplete: {action: notify.team}}}\n',
  });
});
