import type { TestContext } from 'node:test';

/** Where the tests' Docker daemon listens (started by scripts/services/docker.sh). */
export const TEST_DOCKER_HOST = process.env.DVM_TEST_DOCKER_HOST ?? 'unix:///tmp/dvm-docker.sock';

/**
 * Runs `probe`; when the service is not there the test fails in CI (CI=true: the service must run) and is
 * skipped with the command that starts it elsewhere. Returns true when the test may go on.
 */
export async function requireService(
  t: TestContext,
  name: string,
  probe: () => Promise<boolean>,
  start: string,
): Promise<boolean> {
  let ok = false;
  try {
    ok = await probe();
  } catch {
    ok = false;
  }
  if (ok) return true;
  if (process.env.CI === 'true')
    throw new Error(`${name} is not running: CI must start it (${start}, from .ci/services.sh)`);
  t.skip(`${name} is not running: start it with ${start}`);
  return false;
}

/** Where the tests' Podman API listens (started by scripts/services/podman.sh). */
export const TEST_PODMAN_HOST = process.env.DVM_TEST_PODMAN_HOST ?? 'unix:///tmp/dvm-podman.sock';

/** True when a Docker daemon answers at `host`. */
export async function dockerAnswers(host = TEST_DOCKER_HOST): Promise<boolean> {
  const { dockerHealth } = await import('../../src/actions/connectors.ts');
  return (await dockerHealth({ DOCKER_HOST: host })()).status === 'ok';
}

/** Where the tests' PostgreSQL listens (started by scripts/services/postgres.sh; trust authentication). */
export const TEST_PG = {
  host: '127.0.0.1',
  port: Number(process.env.DVM_TEST_PG_PORT ?? 55432),
  user: 'postgres',
};

/** True when the tests' PostgreSQL answers. */
export async function postgresAnswers(): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ ...TEST_PG, database: 'postgres', connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Where the tests' Redis listens (started by scripts/services/redis.sh). */
export const TEST_REDIS = { host: '127.0.0.1', port: Number(process.env.DVM_TEST_REDIS_PORT ?? 56379) };

/** True when the tests' Redis answers PING. */
export async function redisAnswers(): Promise<boolean> {
  const { createClient } = await import('redis');
  const client = createClient({ socket: { ...TEST_REDIS, connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    await client.quit().catch(() => {});
  }
}
