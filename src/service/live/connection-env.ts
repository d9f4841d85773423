import { engineOf } from '../deps/catalog.ts';
import type { DependencyInstance } from '../deps/instances.ts';

const upper = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

/**
 * Connection settings an App gets for each dependency it uses: NAME_HOST, NAME_PORT and, for PostgreSQL and
 * Redis, NAME_URL; the first of each also as DATABASE_URL / REDIS_URL. `override` points a dependency elsewhere
 * (the chaos latency proxy).
 */
export function connectionEnv(
  instances: DependencyInstance[],
  override: Record<string, { host: string; port: number }> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instance of instances) {
    const prefix = upper(instance.name);
    const target = override[instance.id] ?? { host: '127.0.0.1', port: instance.ports[0]?.hostPort ?? 0 };
    env[`${prefix}_HOST`] = target.host;
    env[`${prefix}_PORT`] = String(target.port);
    const kind = engineOf(instance.definitionName, instance.definition.image);
    if (kind === 'postgres') {
      const user = encodeURIComponent(instance.env.POSTGRES_USER ?? 'postgres');
      const password = instance.env.POSTGRES_PASSWORD
        ? `:${encodeURIComponent(instance.env.POSTGRES_PASSWORD)}`
        : '';
      const db = encodeURIComponent(instance.env.POSTGRES_DB ?? 'postgres');
      env[`${prefix}_URL`] = `postgres://${user}${password}@${target.host}:${target.port}/${db}`;
      env.DATABASE_URL ??= env[`${prefix}_URL`];
    } else if (kind === 'redis') {
      env[`${prefix}_URL`] = `redis://${target.host}:${target.port}`;
      env.REDIS_URL ??= env[`${prefix}_URL`];
    }
  }
  return env;
}
