import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parse } from 'yaml';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const home = tempHome();
before(() => {
  dvmOk(home, ['apply', '-f', 'test/fixtures/platform.yaml']);
});

test('get -o json of a list is a kubectl List', () => {
  const list = JSON.parse(dvmOk(home, ['get', 'apps', '-A', '-o', 'json']).stdout);
  assert.equal(list.apiVersion, 'devopsmaestro.io/v1');
  assert.equal(list.kind, 'List');
  assert.deepEqual(
    list.items.map(
      (i: { metadata: { name: string; domain: string } }) => `${i.metadata.domain}/${i.metadata.name}`,
    ),
    ['identity/api', 'identity/web', 'payments/api'],
  );
});

test('get -o yaml of one object prints it bare, with system metadata', () => {
  const object = parse(dvmOk(home, ['get', 'workflow', 'ci', '-o', 'yaml']).stdout);
  assert.equal(object.kind, 'Workflow');
  assert.equal(object.metadata.domain, 'payments');
  assert.match(object.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.equal(object.metadata.generation, 1);
});

test('get table shows parent columns only when the listing spans parents', () => {
  const all = dvmOk(home, ['get', 'apps', '-A']).stdout;
  assert.match(all, /^NAME\s+ECOSYSTEM\s+DOMAIN\s+PATH\s+LANGUAGE\s+AGE$/m);
  const one = dvmOk(home, ['get', 'apps', '-d', 'identity']).stdout;
  assert.match(one, /^NAME\s+PATH\s+LANGUAGE\s+AGE$/m);
  assert.match(one, /^api\s+\S+identity-api\s+typescript\s+\d+s$/m);
  assert.doesNotMatch(one, /payments/);
});

test('get -o wide adds wide columns; -o name prints kind/name', () => {
  assert.match(dvmOk(home, ['get', 'apps', '-A', '-o', 'wide']).stdout, /VERSION/);
  assert.equal(dvmOk(home, ['get', 'tasks', '-A', '-o', 'name']).stdout, 'task/lint\ntask/test\n');
});

test('label selectors filter', () => {
  assert.equal(dvmOk(home, ['get', 'apps', '-A', '-l', 'tier=frontend', '-o', 'name']).stdout, 'app/web\n');
  assert.equal(
    dvmOk(home, ['get', 'apps', '-A', '-l', 'tier notin (frontend)', '-o', 'name']).stdout,
    'app/api\napp/api\n',
  );
});

test('a name in two domains is ambiguous, and the error names the flags', () => {
  const run = dvm(home, ['get', 'app', 'api']);
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /^error: DVM_AMBIGUOUS: app "api" exists in 2 scopes: acme\/identity, acme\/payments/m,
  );
  assert.match(run.stderr, /fix: Pick one with -e ECOSYSTEM -d DOMAIN/);
  assert.equal(
    JSON.parse(dvmOk(home, ['get', 'app', 'api', '-d', 'payments', '-o', 'json']).stdout).spec.path.endsWith(
      'payments-api',
    ),
    true,
  );
});

test('not found suggests a near name and says where it exists', () => {
  const run = dvm(home, ['get', 'task', 'lnt']);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /DVM_NOT_FOUND: task "lnt" not found \(did you mean "lint"\?\)/);
  const elsewhere = dvm(home, ['get', 'app', 'web', '-d', 'payments']);
  assert.match(elsewhere.stderr, /It exists in acme\/identity/);
});

test("kinds by plural, singular, short name and the seed's two-word form; unknown kinds suggest", () => {
  for (const name of ['workflows', 'workflow', 'wf', 'Workflow']) {
    assert.equal(dvmOk(home, ['get', name, '-A', '-o', 'name']).stdout, 'workflow/ci\n', name);
  }
  assert.match(dvm(home, ['get', 'nvim', 'plugins']).stderr, /No resources found/);
  const unknown = dvm(home, ['get', 'pipelnes']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /DVM_KIND_UNKNOWN: unknown kind "pipelnes" \(did you mean "pipelines"\?\)/);
});

test('--effective shows inherited values; usage errors exit 2', () => {
  const applied = JSON.parse(dvmOk(home, ['get', 'app', 'api', '-d', 'identity', '-o', 'json']).stdout);
  const effective = JSON.parse(
    dvmOk(home, ['get', 'app', 'api', '-d', 'identity', '-o', 'json', '--effective']).stdout,
  );
  assert.equal(applied.spec.language, undefined);
  assert.equal(effective.spec.language, 'typescript');
  assert.deepEqual(effective.spec.healthCheck, { port: 9090, path: '/health' });
  assert.equal(dvm(home, ['get', 'apps', '-o', 'xml']).status, 2);
  assert.equal(dvm(home, ['get', 'apps', '--path', 'x']).status, 2);
});

test('tree shows ecosystem → domain → app → workspace with object counts', () => {
  dvmOk(home, ['create', 'workspace', 'dev', '-d', 'identity', '-a', 'web']);
  const tree = dvmOk(home, ['tree']).stdout;
  assert.equal(
    tree,
    [
      'acme (Ecosystem)',
      '├── identity (Domain)',
      '│   ├── api (App)',
      '│   └── web (App)',
      '│       └── dev (Workspace)',
      '└── payments (Domain)  [2 tasks, 1 workflow, 1 pipeline]',
      '    └── api (App)',
      '',
    ].join('\n'),
  );
});
