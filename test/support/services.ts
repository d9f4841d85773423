import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { findExecutable } from '../../src/runtime/process/process-runtime.ts';
import { expandBinPaths } from '../../src/service/deps/service-spec.ts';
import { requireService } from './require-service.ts';

export { freePort } from '../../src/runtime/port-holder.ts';

/** True when PostgreSQL's server binaries (Debian's layout) and redis-server are installed on this host. */
export async function hostServiceBinaries(): Promise<boolean> {
  return (
    !!findExecutable('redis-server') &&
    expandBinPaths(['/usr/lib/postgresql/*/bin']).some((d) => !!findExecutable(join(d, 'postgres')))
  );
}

/** Goes on only where PostgreSQL and Redis binaries are installed (CI: fails without them). */
export function requireHostServices(t: TestContext): Promise<boolean> {
  return requireService(
    t,
    'postgresql and redis-server binaries',
    hostServiceBinaries,
    'bash .ci/services.sh',
  );
}

/** Runs one query on a PostgreSQL on 127.0.0.1 and returns its rows. */
export async function queryPg(
  connection: { port: number; user: string; password: string; database: string },
  sql: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', ...connection });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}
