import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

test('use selects a scope that later commands default to; flags override it', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', 'test/fixtures/platform.yaml']);
  assert.equal(dvm(home, ['get', 'app', 'api']).status, 1);
  assert.equal(
    dvmOk(home, ['use', 'domain', 'payments']).stdout,
    'Switched to ecosystem acme, domain payments.\n',
  );
  assert.match(
    dvmOk(home, ['get', 'context']).stdout,
    /^current\s+acme\s+payments\s+<none>\s+<none>\s+\d+s$/m,
  );
  assert.match(dvmOk(home, ['get', 'app', 'api', '-o', 'json']).stdout, /payments-api/);
  assert.equal(dvmOk(home, ['get', 'apps', '-o', 'name']).stdout, 'app/api\n');
  assert.match(dvmOk(home, ['get', 'app', 'api', '-d', 'identity', '-o', 'json']).stdout, /identity-api/);
  // Objects applied without a domain land in the selected one.
  dvmOk(home, ['apply', '-f', '-'], {
    input:
      'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: deploy}\nspec: {command: [make, deploy]}\n',
  });
  assert.equal(
    JSON.parse(dvmOk(home, ['get', 'task', 'deploy', '-o', 'json']).stdout).metadata.domain,
    'payments',
  );
  assert.equal(
    dvmOk(home, ['use', 'app', 'web']).stdout,
    'Switched to ecosystem acme, domain identity, app web.\n',
  );
  assert.equal(dvmOk(home, ['use', 'none']).stdout, 'Cleared the context.\n');
  assert.equal(dvm(home, ['get', 'app', 'api']).status, 1);
  assert.equal(dvm(home, ['use', 'domain', 'nope']).status, 1);
});

test('create makes hierarchy objects from flags and refuses to overwrite', () => {
  const home = tempHome();
  dvmOk(home, ['create', 'ecosystem', 'customer-platform']);
  dvmOk(home, ['create', 'domain', 'auth-domain', '-e', 'customer-platform']);
  assert.equal(
    dvmOk(home, ['create', 'app', 'auth-api', '--path', 'examples', '-d', 'auth-domain']).stdout,
    'app/auth-api created\n',
  );
  dvmOk(home, ['create', 'workspace', 'dev', '-a', 'auth-api']);
  const app = JSON.parse(dvmOk(home, ['get', 'app', 'auth-api', '-o', 'json']).stdout);
  assert.match(app.spec.path, /\/examples$/);
  assert.equal(app.metadata.ecosystem, 'customer-platform');
  const again = dvm(home, ['create', 'domain', 'auth-domain']);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /DVM_ALREADY_EXISTS .*Domain\/auth-domain already exists/);
  assert.match(
    dvm(home, ['create', 'domain', 'x', '-e', 'nope']).stderr,
    /DVM_REF_NOT_FOUND .*ecosystem "nope" does not exist/,
  );
});

test('legacy project commands still work, warn, and use the default ecosystem and domain', () => {
  const home = tempHome();
  const created = dvmOk(home, ['create', 'project', 'my-api', '--path', '.']);
  assert.match(created.stderr, /warning: "project" is deprecated/);
  assert.match(
    created.stdout,
    /^ecosystem\/default created\ndomain\/default created\napp\/my-api created\n$/,
  );
  const listed = dvmOk(home, ['get', 'projects']);
  assert.match(listed.stderr, /deprecated/);
  assert.match(listed.stdout, /^my-api\s/m);
  dvmOk(home, ['create', 'project', 'second', '--path', '.']);
  assert.equal(
    dvmOk(home, ['get', 'apps', '-d', 'default', '-o', 'name']).stdout,
    'app/my-api\napp/second\n',
  );
});
