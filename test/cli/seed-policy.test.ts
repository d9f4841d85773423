// `dvm seed` runs the actions a seed is made of (beforeSeed data.truncate, data.insert, afterSeed data.verify)
// through the agent's one path: a forbid on one of them in DVM_HOME/policies stops the seed as it stops
// `dvm action run` of that action (same coded error, nothing changed), and without it the seed works as before,
// each action audited as `dvm action run` audits it. The tests' Redis.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import { redisAnswers, requireService, TEST_REDIS } from '../support/require-service.ts';

function platform(prefix: string): string {
  return `apiVersion: devopsmaestro.io/v1
kind: Dependency
metadata: {name: redis}
spec: {image: redis:7-alpine, ports: [{containerPort: 6379, hostPort: ${TEST_REDIS.port}}]}
---
apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: shop}
spec: {dependencies: [{name: cache, ref: redis}]}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: web, ecosystem: shop}
---
apiVersion: devopsmaestro.io/v1
kind: DataStore
metadata: {name: products, ecosystem: shop, domain: web}
spec:
  target: {dependencyRef: cache, table: ${prefix}}
  schema: {fields: [{name: id, type: string, primary: true}, {name: name, type: string}]}
  records:
    - inline: {id: p-1, name: one}
---
apiVersion: devopsmaestro.io/v1
kind: DataLake
metadata: {name: lake, ecosystem: shop}
spec:
  dataStores: [{ref: web/products}]
  beforeSeed: {action: data.truncate, target: all}
  afterSeed: {action: data.verify, target: all}
`;
}

const forbid = (actions: string[]) => `@id("frozen")
@reason("test data is frozen")
forbid (principal, action, resource)
when { ${JSON.stringify(actions)}.contains(context.action) };
`;

type Entry = { actor: string; action: string; decision: string; env: string; dryRun?: boolean };
const auditOf = (home: string): Entry[] =>
  JSON.parse(dvmOk(home, ['audit', '-o', 'json']).stdout).items.filter((e: Entry) =>
    e.action.startsWith('data.'),
  );

test('a forbid on data.truncate or data.insert stops dvm seed with the error dvm action run prints; without it the seed runs each action, audited', async (t) => {
  if (!(await requireService(t, 'Redis', redisAnswers, 'bash scripts/services/redis.sh'))) return;
  const home = tempHome();
  const prefix = `seedpol_${randomBytes(3).toString('hex')}`;
  mkdirSync(join(home, 'policies'));
  const policy = join(home, 'policies', 'freeze.cedar');
  dvmOk(home, ['apply', '-f', '-'], { input: platform(prefix) });
  const { createClient } = await import('redis');
  const client = createClient({ socket: TEST_REDIS });
  await client.connect();
  const keys = async () => (await client.keys(`${prefix}:*`)).sort();
  try {
    await client.set(`${prefix}:old`, '{"id":"old"}');

    // beforeSeed's data.truncate is forbidden: the lake's seed stops before anything changes.
    writeFileSync(policy, forbid(['data.truncate']));
    const action = dvm(home, ['action', 'run', 'data.truncate', '--param', 'store=web/products']);
    const lake = dvm(home, ['seed', 'datalake', 'lake', '-e', 'shop']);
    assert.notEqual(lake.status, 0);
    assert.equal(lake.status, action.status, 'the exit status of dvm action run data.truncate');
    assert.match(lake.stderr, /^error: DVM_FORBIDDEN: policy denies this request: test data is frozen/);
    assert.equal(lake.stderr, action.stderr, 'the same error, word for word');
    assert.equal(lake.stdout, '');
    assert.deepEqual(await keys(), [`${prefix}:old`], 'the old key is still there, nothing inserted');

    // data.insert is forbidden: neither the lake's seed nor the store's changes anything — the lake's
    // data.truncate, allowed, does not run either: every step is decided before the first runs.
    writeFileSync(policy, forbid(['data.insert']));
    const lakeInsert = dvm(home, ['seed', 'datalake', 'lake', '-e', 'shop']);
    assert.notEqual(lakeInsert.status, 0);
    assert.match(lakeInsert.stderr, /^error: DVM_FORBIDDEN: policy denies this request: test data is frozen/);
    assert.deepEqual(await keys(), [`${prefix}:old`], 'not truncated');
    const store = dvm(home, ['seed', 'datastore', 'products', '-e', 'shop', '-d', 'web']);
    assert.notEqual(store.status, 0);
    assert.match(store.stderr, /^error: DVM_FORBIDDEN: policy denies this request: test data is frozen/);
    assert.deepEqual(await keys(), [`${prefix}:old`]);
    assert.deepEqual(
      auditOf(home).map((e) => [e.action, e.decision, e.env, e.actor, e.dryRun === true]),
      [
        ['data.truncate', 'denied', 'dev', 'local', false],
        ['data.truncate', 'denied', 'dev', 'local', true],
        ['data.truncate', 'allowed', 'dev', 'local', true],
        ['data.insert', 'denied', 'dev', 'local', true],
        ['data.insert', 'denied', 'dev', 'local', true],
      ],
    );

    // No forbid: the lake's seed truncates, inserts and verifies, as before, each step an audited action.
    rmSync(policy);
    const seeded = dvmOk(home, ['seed', 'datalake', 'lake', '-e', 'shop']);
    assert.match(
      seeded.stdout,
      new RegExp(
        `^STORE +TARGET +TABLE +RECORDS +TRUNCATED +VERIFIED +DURATION\\nproducts +cache \\(redis\\) +${prefix} +1 +yes +1 rows +\\d+ms\\n$`,
      ),
    );
    assert.deepEqual(await keys(), [`${prefix}:p-1`], 'truncated, then seeded');
    const json = JSON.parse(dvmOk(home, ['seed', 'datalake', 'lake', '-e', 'shop', '-o', 'json']).stdout);
    assert.deepEqual(json.seeded[0].verified, { rows: 1, missing: 0 });
    assert.deepEqual(
      auditOf(home)
        .slice(5, 14)
        .map((e) => [e.action, e.decision, e.env, e.actor, e.dryRun === true]),
      [
        // Decided first, as dry runs; then run.
        ['data.truncate', 'allowed', 'dev', 'local', true],
        ['data.insert', 'allowed', 'dev', 'local', true],
        ['data.verify', 'allowed', 'dev', 'local', true],
        ['data.truncate', 'allowed', 'dev', 'local', false],
        ['data.truncate', 'executed', 'dev', 'local', false],
        ['data.insert', 'allowed', 'dev', 'local', false],
        ['data.insert', 'executed', 'dev', 'local', false],
        ['data.verify', 'allowed', 'dev', 'local', false],
        ['data.verify', 'executed', 'dev', 'local', false],
      ],
    );
  } finally {
    await client.del(await client.keys(`${prefix}:*`)).catch(() => {});
    await client.quit();
  }
});

test('a forbid on a DataStore holds however the request names it: NAME or DOMAIN/NAME, with or without its ecosystem', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: platform('aliased') });
  mkdirSync(join(home, 'policies'));
  writeFileSync(
    join(home, 'policies', 'freeze.cedar'),
    `@id("frozen-products") @reason("products is frozen")
forbid (principal, action, resource)
when { context.params.hasTag("store") && context.params.getTag("store") == "web/products" };
`,
  );
  for (const params of [['store=products'], ['store=products', 'ecosystem=shop'], ['store=web/products']]) {
    const run = dvm(home, [
      'action',
      'run',
      'data.truncate',
      ...params.flatMap((p) => ['--param', p]),
      '--yes',
    ]);
    assert.equal(run.status, 1, `${params}: ${run.stdout}`);
    assert.match(run.stderr, /DVM_FORBIDDEN: policy denies this request: products is frozen/, String(params));
  }
  // So does a forbid on a dependency instance for data.backup, data.restore and chaos.latency: by name or by id.
  writeFileSync(
    join(home, 'policies', 'cache.cedar'),
    `@id("frozen-cache") @reason("cache is frozen")
forbid (principal, action, resource)
when { context.params.hasTag("target") && ["cache", "dependency/cache"].contains(context.params.getTag("target")) };
`,
  );
  for (const [action, ...params] of [
    ['data.backup', 'target=shop-cache'],
    ['data.restore', 'target=shop-cache', 'file=x'],
    ['chaos.latency', 'target=dependency/shop-cache', 'latency=10ms'],
  ] as const) {
    const run = dvm(home, ['action', 'run', action, ...params.flatMap((p) => ['--param', p]), '--yes']);
    assert.equal(run.status, 1, `${action}: ${run.stdout}`);
    assert.match(run.stderr, /DVM_FORBIDDEN: policy denies this request: cache is frozen/, action);
  }
  rmSync(join(home, 'policies', 'cache.cedar'));
  // The audit shows what was decided on: the store in its one form, with its ecosystem.
  const denied = JSON.parse(dvmOk(home, ['audit', '-o', 'json']).stdout).items as { params: object }[];
  assert.deepEqual(
    denied.filter((e) => (e as { action?: string }).action?.startsWith('data.truncate')).map((e) => e.params),
    Array(3).fill({ store: 'web/products', ecosystem: 'shop' }),
  );
});

test('on a home bound to prod, dvm seed acts in prod: its gates are met up front (--yes) or nothing changes', async (t) => {
  if (!(await requireService(t, 'Redis', redisAnswers, 'bash scripts/services/redis.sh'))) return;
  const home = tempHome();
  const prefix = `seedprod_${randomBytes(3).toString('hex')}`;
  dvmOk(home, ['apply', '-f', '-'], { input: platform(prefix) });
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  environments: [prod]\n');
  const { createClient } = await import('redis');
  const client = createClient({ socket: TEST_REDIS });
  await client.connect();
  const keys = async () => (await client.keys(`${prefix}:*`)).sort();
  try {
    await client.set(`${prefix}:old`, '{"id":"old"}');
    // prod's confirmation gate on data.truncate and data.insert: without --yes the seed stops before any step.
    const gated = dvm(home, ['seed', 'datalake', 'lake', '-e', 'shop']);
    assert.equal(gated.status, 1, gated.stdout);
    assert.match(
      gated.stderr,
      /DVM_CONFIRMATION_REQUIRED: data\.truncate on web\/products needs confirmation; nothing was seeded/,
    );
    assert.match(gated.stderr, /fix: Pass --yes/);
    assert.deepEqual(await keys(), [`${prefix}:old`], 'not truncated');
    const seeded = dvmOk(home, ['seed', 'datalake', 'lake', '-e', 'shop', '--yes', '-o', 'json']);
    assert.equal(JSON.parse(seeded.stdout).seeded[0].truncated, true);
    assert.deepEqual(await keys(), [`${prefix}:p-1`]);
    const executed = auditOf(home).filter((e) => e.decision === 'executed');
    assert.deepEqual([...new Set(executed.map((e) => e.env))], ['prod']);
  } finally {
    await client.del(await client.keys(`${prefix}:*`)).catch(() => {});
    await client.quit();
  }
});
