// The test-data benchmark of bench/run.ts: `dvm seed datastore` of 100,000 records into PostgreSQL against
// `psql \copy` of the same rows into the same kind of table, both whole processes, medians of interleaved runs.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from './engine.ts';
import { DVM, freshDir, median, NODE, OUT, ROOT } from './measure.ts';

const RECORDS = Number(process.env.BENCH_SEED_RECORDS ?? 100_000);
const RUNS = Number(process.env.BENCH_SEED_RUNS ?? 3);
const PG = { host: '127.0.0.1', port: Number(process.env.DVM_TEST_PG_PORT ?? 55432), user: 'postgres' };
const DATABASE = 'dvm_bench_seed';

function psql(sql: string, database = 'postgres'): void {
  const r = spawnSync(
    'psql',
    [
      '-h',
      PG.host,
      '-p',
      String(PG.port),
      '-U',
      PG.user,
      '-d',
      database,
      '-v',
      'ON_ERROR_STOP=1',
      '-qc',
      sql,
    ],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
}

function timed(command: string, args: string[], env: Record<string, string> = {}): number {
  const start = performance.now();
  const r = spawnSync(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}`);
  return performance.now() - start;
}

/** Seeds 100,000 records with dvm and with psql \copy; returns the rows/s comparison (or nothing without PostgreSQL). */
export async function dataBenchmarks(): Promise<Row[]> {
  if (spawnSync('pg_isready', ['-h', PG.host, '-p', String(PG.port)]).status !== 0) {
    console.error(
      `(seed benchmark skipped: no PostgreSQL on ${PG.host}:${PG.port}; run scripts/services/postgres.sh)`,
    );
    return [];
  }
  psql(`DROP DATABASE IF EXISTS ${DATABASE}`);
  psql(`CREATE DATABASE ${DATABASE}`);
  const rows = Array.from({ length: RECORDS }, (_, i) => ({
    id: `usr_${i}`,
    email: `user${i}@example.com`,
    name: `User ${i}`,
    role: ['admin', 'user', 'guest'][i % 3],
    created_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
  }));
  const csv = join(OUT, 'seed-rows.csv');
  writeFileSync(
    csv,
    `${rows.map((r) => [r.id, r.email, r.name, r.role, r.created_at].join(',')).join('\n')}\n`,
  );
  const home = freshDir('seed-home');
  const yaml = join(OUT, 'seed-objects.yaml');
  writeFileSync(
    yaml,
    `apiVersion: devopsmaestro.io/v1
kind: Dependency
metadata: {name: postgres}
spec:
  image: postgres:16-alpine
  ports: [{containerPort: 5432, hostPort: ${PG.port}}]
  env: [{name: POSTGRES_USER, value: postgres}]
---
apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: bench}
spec: {dependencies: [{name: db, ref: postgres}]}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: data, ecosystem: bench}
---
apiVersion: devopsmaestro.io/v1
kind: DataStore
metadata: {name: users, ecosystem: bench, domain: data}
spec:
  target: {dependencyRef: db, database: ${DATABASE}, table: users}
  schema:
    fields:
      - {name: id, type: string, primary: true}
      - {name: email, type: string, unique: true}
      - {name: name, type: string}
      - {name: role, type: string, enum: [admin, user, guest]}
      - {name: created_at, type: timestamp}
  records:
${rows.map((r) => `    - inline: ${JSON.stringify(r)}`).join('\n')}
`,
  );
  timed(NODE, [DVM, 'apply', '-f', yaml], { DVM_HOME: home }); // setup, not measured
  const table = `CREATE TABLE IF NOT EXISTS copied (id text NOT NULL PRIMARY KEY, email text UNIQUE, name text,
    role text CHECK (role IN ('admin', 'user', 'guest')), created_at timestamptz)`;
  const dvmTimes: number[] = [];
  const copyTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    psql('DROP TABLE IF EXISTS users', DATABASE);
    dvmTimes.push(
      timed(NODE, [DVM, 'seed', 'datastore', 'users', '-e', 'bench', '-d', 'data'], { DVM_HOME: home }),
    );
    psql('DROP TABLE IF EXISTS copied', DATABASE);
    psql(table, DATABASE);
    copyTimes.push(
      timed('psql', [
        '-h',
        PG.host,
        '-p',
        String(PG.port),
        '-U',
        PG.user,
        '-d',
        DATABASE,
        '-v',
        'ON_ERROR_STOP=1',
        '-qc',
        `\\copy copied FROM '${csv}' CSV`,
      ]),
    );
  }
  psql(`DROP DATABASE IF EXISTS ${DATABASE}`);
  const dvmRate = RECORDS / (median(dvmTimes) / 1000);
  const copyRate = RECORDS / (median(copyTimes) / 1000);
  return [
    {
      name: `dvm seed datastore (${RECORDS} records, upsert) vs psql \\copy, rows/s`,
      subject: dvmRate,
      baseline: copyRate,
      unit: 'req/s',
      minRatio: 0.5,
      note: `dvm ${median(dvmTimes).toFixed(0)} ms incl. start-up, psql ${median(copyTimes).toFixed(0)} ms`,
    },
  ];
}
