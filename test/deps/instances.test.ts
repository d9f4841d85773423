// The sharing rule of dependency instances (seed 000): a name + ref at a scope is one instance there; a ref alone
// uses the instance of that name found upward; the same name at another scope is another instance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvmOk, tempHome } from '../helpers/dvm.ts';

test('instances by scope: shared upward by ref, new by name, listed with their scope and status', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: shop}
spec:
  dependencies: [{name: platform-db, ref: postgres}, {name: cache, ref: redis}]
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: orders, ecosystem: shop}
spec:
  dependencies: [{name: cache, ref: redis, ports: [{containerPort: 6379, hostPort: 16379}]}]
---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: api, ecosystem: shop, domain: orders}
spec:
  dependencies: [{ref: platform-db}, {ref: cache}, {name: scratch-db, ref: postgres, ports: [{containerPort: 5432, hostPort: 15432}]}]
`,
  });
  const table = dvmOk(home, ['get', 'dependencies', '-e', 'shop', '-o', 'wide']).stdout;
  const rows = table
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(/\s{3,}/));
  assert.deepEqual(
    rows.map(([name, scope, definition, runtime, status, ports]) => [
      name,
      scope,
      definition,
      runtime,
      status,
      ports,
    ]),
    [
      ['platform-db', 'Ecosystem/shop', 'postgres (built in)', '-', 'NotStarted', '5432'],
      ['cache', 'Ecosystem/shop', 'redis (built in)', '-', 'NotStarted', '6379'],
      ['cache', 'Domain/orders', 'redis (built in)', '-', 'NotStarted', '16379->6379'],
      ['scratch-db', 'App/api', 'postgres (built in)', '-', 'NotStarted', '15432->5432'],
    ],
  );
  // The app's `ref: cache` is the domain's instance (nearest upward), `ref: platform-db` the ecosystem's.
  const status = JSON.parse(
    dvmOk(home, ['status', 'dependency', 'cache', '-e', 'shop', '-d', 'orders', '-a', 'api', '-o', 'json'])
      .stdout,
  );
  assert.equal(status.id, 'shop-orders-cache');
  assert.equal(status.scope, 'Domain/orders');
  assert.equal(
    JSON.parse(dvmOk(home, ['status', 'dependency', 'cache', '-e', 'shop', '-o', 'json']).stdout).id,
    'shop-cache',
  );
});
