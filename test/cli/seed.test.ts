import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import {
  postgresAnswers,
  redisAnswers,
  requireService,
  TEST_PG,
  TEST_REDIS,
} from '../support/require-service.ts';

// The objects of a small platform whose platform-db instance points at the tests' PostgreSQL.
function platform(database: string, extraRecords = '', userName = 'Alice Smith'): string {
  return `apiVersion: devopsmaestro.io/v1
kind: Dependency
metadata: {name: postgres}
spec:
  image: postgres:16-alpine
  ports: [{containerPort: 5432, hostPort: ${TEST_PG.port}}]
  env: [{name: POSTGRES_USER, value: postgres}, {name: POSTGRES_DB, value: postgres}]
---
apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: shop}
spec:
  dependencies: [{name: platform-db, ref: postgres}]
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: auth, ecosystem: shop}
---
apiVersion: devopsmaestro.io/v1
kind: DataRecord
metadata: {name: alice, ecosystem: shop, domain: auth}
spec:
  dataStoreRef: users
  data: {id: usr_001, email: alice@example.com, name: "${userName}", role: admin, created_at: "2024-01-01T00:00:00Z"}
---
apiVersion: devopsmaestro.io/v1
kind: DataStore
metadata: {name: users, ecosystem: shop, domain: auth}
spec:
  target: {dependencyRef: platform-db, database: ${database}, table: users}
  schema:
    fields:
      - {name: id, type: string, primary: true}
      - {name: email, type: string, unique: true}
      - {name: name, type: string}
      - {name: role, type: string, enum: [admin, user, guest]}
      - {name: created_at, type: timestamp}
  records:
    - ref: alice
    - inline: {id: usr_002, email: bob@example.com, name: "Robert'); DROP TABLE users; --", role: user}
${extraRecords}
---
apiVersion: devopsmaestro.io/v1
kind: DataStore
metadata: {name: orders, ecosystem: shop, domain: auth}
spec:
  target: {dependencyRef: platform-db, database: ${database}, table: orders}
  schema:
    fields:
      - {name: id, type: integer, primary: true}
      - {name: user_id, type: string}
      - {name: total, type: number}
      - {name: meta, type: json}
  records:
    - inline: {id: 1, user_id: usr_001, total: 9.5, meta: {gift: true}}
---
apiVersion: devopsmaestro.io/v1
kind: DataLake
metadata: {name: integration, ecosystem: shop}
spec:
  dataStores: [{ref: auth/orders}, {ref: auth/users}]
  seedOrder: [users, orders]
  beforeSeed: {action: data.truncate, target: all}
  afterSeed: {action: data.verify, target: all}
`;
}

async function query<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ ...TEST_PG, database });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

test('dvm seed datalake creates the database and tables, upserts in seed order, truncates and verifies', async (t) => {
  if (!(await requireService(t, 'PostgreSQL', postgresAnswers, 'bash scripts/services/postgres.sh'))) return;
  const home = tempHome();
  const database = `dvm_seed_${randomBytes(4).toString('hex')}`;
  dvmOk(home, ['apply', '-f', '-'], { input: platform(database) });
  const out = JSON.parse(dvmOk(home, ['seed', 'datalake', 'integration', '-e', 'shop', '-o', 'json']).stdout);
  assert.deepEqual(
    out.seeded.map((s: { store: string; records: number }) => [s.store, s.records]),
    [
      ['users', 2],
      ['orders', 1],
    ],
    'seedOrder, not the dataStores order',
  );
  const users = await query<{ id: string; name: string; role: string }>(
    database,
    'SELECT id, name, role FROM users ORDER BY id',
  );
  assert.deepEqual(users, [
    { id: 'usr_001', name: 'Alice Smith', role: 'admin' },
    { id: 'usr_002', name: "Robert'); DROP TABLE users; --", role: 'user' },
  ]);
  const [order] = await query<{ total: number; meta: unknown }>(database, 'SELECT total, meta FROM orders');
  assert.deepEqual(order, { total: 9.5, meta: { gift: true } });

  // The enum is a CHECK constraint and the email is unique.
  await assert.rejects(
    query(database, "INSERT INTO users (id, email, role) VALUES ('x', 'x@x', 'root')"),
    /check constraint/,
  );
  await assert.rejects(
    query(database, "INSERT INTO users (id, email) VALUES ('y', 'alice@example.com')"),
    /unique/,
  );

  // Change a record and seed again: upserted in place; a row added by hand is truncated away (beforeSeed).
  await query(database, "INSERT INTO users (id, email, role) VALUES ('hand', 'hand@example.com', 'guest')");
  dvmOk(home, ['apply', '-f', '-'], { input: platform(database, '', 'Alice Jones') });
  dvmOk(home, ['seed', 'datalake', 'integration', '-e', 'shop']);
  assert.deepEqual(
    (await query<{ id: string; name: string }>(database, 'SELECT id, name FROM users ORDER BY id')).map(
      (r) => [r.id, r.name],
    ),
    [
      ['usr_001', 'Alice Jones'],
      ['usr_002', "Robert'); DROP TABLE users; --"],
    ],
  );

  // Seeding one store (no beforeSeed) into a table that has rows upserts: changed records update, others stay.
  await query(database, "INSERT INTO users (id, email, role) VALUES ('hand', 'hand@example.com', 'guest')");
  dvmOk(home, ['apply', '-f', '-'], { input: platform(database, '', "Alice O'Hara") });
  dvmOk(home, ['seed', 'datastore', 'users', '-e', 'shop', '-d', 'auth']);
  assert.deepEqual(
    (
      await query<{ id: string; name: string | null }>(database, 'SELECT id, name FROM users ORDER BY id')
    ).map((r) => [r.id, r.name]),
    [
      ['hand', null],
      ['usr_001', "Alice O'Hara"],
      ['usr_002', "Robert'); DROP TABLE users; --"],
    ],
  );
  await query('postgres', `DROP DATABASE ${database}`);
});

test('bad records and identifiers are refused with coded errors before anything is written', async (t) => {
  if (!(await requireService(t, 'PostgreSQL', postgresAnswers, 'bash scripts/services/postgres.sh'))) return;
  const home = tempHome();
  const database = `dvm_seed_${randomBytes(4).toString('hex')}`;
  dvmOk(home, ['apply', '-f', '-'], {
    input: platform(database, '    - inline: {id: usr_003, email: c@example.com, role: superuser, extra: 1}'),
  });
  const bad = dvm(home, ['seed', 'datastore', 'users', '-e', 'shop', '-d', 'auth']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /DVM_DATA_INVALID/);
  assert.match(bad.stderr, /superuser" is not one of admin, user, guest/);
  assert.match(bad.stderr, /field "extra" is not in the schema/);
  const exists = await query<{ n: string }>(
    'postgres',
    'SELECT count(*) AS n FROM pg_database WHERE datname = $1',
    [database],
  );
  assert.equal(exists[0].n, '0', 'nothing was created');

  // A table name that tries to break out of its quotes is refused; nothing is dropped.
  dvmOk(home, ['apply', '-f', '-'], {
    input: platform(database).replace('table: users}', 'table: "users; DROP TABLE orders"}'),
  });
  const injected = dvm(home, ['seed', 'datastore', 'users', '-e', 'shop', '-d', 'auth']);
  assert.equal(injected.status, 1);
  assert.match(injected.stderr, /DVM_DATA_INVALID.*is not a table or column name/);
  const still = await query<{ n: string }>(
    'postgres',
    'SELECT count(*) AS n FROM pg_database WHERE datname = $1',
    [database],
  );
  assert.equal(still[0].n, '0', 'refused before connecting');
});

test('data.insert, data.verify, data.truncate and data.delete run as tasks and through dvm action run', async (t) => {
  if (!(await requireService(t, 'PostgreSQL', postgresAnswers, 'bash scripts/services/postgres.sh'))) return;
  const home = tempHome();
  const database = `dvm_seed_${randomBytes(4).toString('hex')}`;
  const task = (name: string, action: string) => `---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: ${name}, ecosystem: shop, domain: auth}
spec: {action: ${action}, params: {store: auth/users, ecosystem: shop}}`;
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${platform(database)}${task('load', 'data.insert')}\n${task('check', 'data.verify')}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: prepare-data, ecosystem: shop, domain: auth}
spec:
  tasks:
    - {name: load, taskRef: load}
    - {name: check, taskRef: check, dependsOn: [load]}
`,
  });
  dvmOk(home, ['run', 'workflow', 'prepare-data', '-e', 'shop', '-d', 'auth']);
  assert.equal((await query<{ n: string }>(database, 'SELECT count(*) AS n FROM users'))[0].n, '2');
  // The tasks went through the agent's path: audited as the local user in env pipeline.
  const audit = dvmOk(home, ['audit', '--actor', 'local', '-o', 'json']).stdout;
  assert.deepEqual(
    (JSON.parse(audit).items as { action: string; decision: string; env: string }[])
      .filter((e) => e.decision === 'executed')
      .map((e) => [e.action, e.env]),
    [
      ['data.insert', 'pipeline'],
      ['data.verify', 'pipeline'],
    ],
  );

  const deleted = JSON.parse(
    dvmOk(home, [
      'action',
      'run',
      'data.delete',
      '--param',
      'store=auth/users',
      '--param',
      'ecosystem=shop',
      '--param',
      'keys=["usr_002"]',
      '-o',
      'json',
    ]).stdout,
  );
  assert.equal(deleted.result.deleted, 1);
  const failed = dvm(home, [
    'action',
    'run',
    'data.verify',
    '--param',
    'store=auth/users',
    '--param',
    'ecosystem=shop',
  ]);
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /DVM_DATA_VERIFY_FAILED.*1 of 2 records/);
  dvmOk(home, ['action', 'run', 'data.truncate', '--param', 'store=auth/users', '--param', 'ecosystem=shop']);
  assert.equal((await query<{ n: string }>(database, 'SELECT count(*) AS n FROM users'))[0].n, '0');
  await query('postgres', `DROP DATABASE ${database}`);
});

test('a Redis DataStore stores each record as a JSON value under TABLE:KEY; truncate and verify work on it', async (t) => {
  if (!(await requireService(t, 'Redis', redisAnswers, 'bash scripts/services/redis.sh'))) return;
  const home = tempHome();
  const prefix = `sessions_${randomBytes(3).toString('hex')}`;
  dvmOk(home, ['apply', '-f', '-'], {
    input: `apiVersion: devopsmaestro.io/v1
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
metadata: {name: sessions, ecosystem: shop, domain: web}
spec:
  target: {dependencyRef: cache, table: ${prefix}}
  schema: {fields: [{name: id, type: string, primary: true}, {name: user, type: string}, {name: ttl, type: integer}]}
  records:
    - inline: {id: s1, user: alice, ttl: 60}
    - inline: {id: "s2\\r\\nFLUSHALL", user: "mallory\\r\\nDEL x", ttl: 1}
`,
  });
  dvmOk(home, ['seed', 'datastore', 'sessions', '-e', 'shop', '-d', 'web']);
  const { createClient } = await import('redis');
  const client = createClient({ socket: TEST_REDIS });
  await client.connect();
  try {
    assert.deepEqual(JSON.parse(String(await client.get(`${prefix}:s1`))), {
      id: 's1',
      user: 'alice',
      ttl: 60,
    });
    assert.equal(
      JSON.parse(String(await client.get(`${prefix}:s2\r\nFLUSHALL`))).user,
      'mallory\r\nDEL x',
      'values stay values',
    );
    const verified = JSON.parse(
      dvmOk(home, ['action', 'run', 'data.verify', '--param', 'store=web/sessions', '-o', 'json']).stdout,
    );
    assert.deepEqual([verified.result.records, verified.result.missing], [2, 0]);
    dvmOk(home, ['action', 'run', 'data.truncate', '--param', 'store=web/sessions']);
    assert.equal(await client.exists(`${prefix}:s1`), 0);
    const failed = dvm(home, ['action', 'run', 'data.verify', '--param', 'store=web/sessions']);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /DVM_DATA_VERIFY_FAILED/);
  } finally {
    await client.quit();
  }
});

test("a user Action's SQL and Redis handler templates run with quoted identifiers and bound values", async (t) => {
  if (!(await requireService(t, 'PostgreSQL', postgresAnswers, 'bash scripts/services/postgres.sh'))) return;
  if (!(await requireService(t, 'Redis', redisAnswers, 'bash scripts/services/redis.sh'))) return;
  const home = tempHome();
  const database = `dvm_seed_${randomBytes(4).toString('hex')}`;
  const prefix = `tpl_${randomBytes(3).toString('hex')}`;
  // The seed's data.insert handlers, as a user Action of another name.
  const action = `---
apiVersion: devopsmaestro.io/v1
kind: Action
metadata: {name: rows.put}
spec:
  description: Insert data into a data store
  handlers:
    postgres:
      type: sql
      template: |
        INSERT INTO {{ .table }} ({{ .columns }})
        VALUES ({{ .values }})
        ON CONFLICT ({{ .primaryKey }}) DO UPDATE SET {{ .updates }};
    redis:
      type: command
      template: |
        SET {{ .key }} '{{ .value | json }}'
  inputs:
    - {name: target, type: string, required: true}
    - {name: data, type: object, required: true}
---
apiVersion: devopsmaestro.io/v1
kind: Dependency
metadata: {name: redis}
spec: {image: redis:7-alpine, ports: [{containerPort: 6379, hostPort: ${TEST_REDIS.port}}]}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: web, ecosystem: shop}
spec: {dependencies: [{name: cache, ref: redis}]}
---
apiVersion: devopsmaestro.io/v1
kind: DataStore
metadata: {name: sessions, ecosystem: shop, domain: web}
spec:
  target: {dependencyRef: cache, table: ${prefix}}
  schema: {fields: [{name: id, type: string, primary: true}, {name: user, type: string}]}
`;
  const task = (name: string, params: string) => `---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: ${name}, ecosystem: shop, domain: auth}
spec: {action: rows.put, params: ${params}}
`;
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${platform(database)}${action}${task('put-user', `{target: auth/users, data: {id: usr_9, email: "x@example.com'); DROP TABLE users; --", role: guest}}`)}${task('put-session', '{target: web/sessions, data: {id: s9, user: "eve\' ; FLUSHALL"}}')}${task('bad-column', '{target: auth/users, data: {"id = id; DROP TABLE users; --": 1}}')}`,
  });
  dvmOk(home, ['seed', 'datastore', 'users', '-e', 'shop', '-d', 'auth']);
  dvmOk(home, ['run', 'task', 'put-user', '-e', 'shop', '-d', 'auth']);
  const [row] = await query<{ email: string; role: string }>(
    database,
    "SELECT email, role FROM users WHERE id = 'usr_9'",
  );
  assert.deepEqual(row, { email: "x@example.com'); DROP TABLE users; --", role: 'guest' });

  const bad = dvm(home, ['run', 'task', 'bad-column', '-e', 'shop', '-d', 'auth']);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout + bad.stderr, /not a table or column name|DVM_DATA_INVALID/);
  assert.equal(
    (await query<{ n: string }>(database, 'SELECT count(*) AS n FROM users'))[0].n,
    '3',
    'the table is intact',
  );

  dvmOk(home, ['run', 'task', 'put-session', '-e', 'shop', '-d', 'auth']);
  const { createClient } = await import('redis');
  const client = createClient({ socket: TEST_REDIS });
  await client.connect();
  try {
    assert.deepEqual(JSON.parse(String(await client.get(`${prefix}:s9`))), {
      id: 's9',
      user: "eve' ; FLUSHALL",
    });
  } finally {
    await client.del(`${prefix}:s9`);
    await client.quit();
  }
  await query('postgres', `DROP DATABASE ${database}`);
});
