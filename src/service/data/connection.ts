import { DvmError } from '../../errors/dvm-error.ts';
import type { Store, StoredObject } from '../../store/store.ts';
import { catalogDefinition, engineOf } from '../deps/catalog.ts';
import { envMap } from '../deps/instances.ts';
import { nearest, scopesUp } from './lookup.ts';

/** How to reach a Redis target: records are JSON values under `PREFIX:KEY`. */
export interface RedisTarget {
  engine: 'redis';
  host: string;
  port: number;
  password?: string;
  /** Redis database number (target.database when it is a number, else 0). */
  database: number;
  label: string;
}

/** Where a DataStore's records go. */
export type DataTarget = PostgresTarget | RedisTarget;

/** How to reach the database of a DataStore's target dependency. */
export interface PostgresTarget {
  engine: 'postgres';
  host: string;
  port: number;
  user: string;
  password?: string;
  /** The database the store's table lives in (created when missing). */
  database: string;
  /** A database that exists for sure (the dependency's own), to create `database` from. */
  adminDatabase: string;
  /** Which dependency instance and definition this came from, for messages. */
  label: string;
}

type Spec = Record<string, unknown>;

const DEFAULT_PORT = { postgres: 5432, redis: 6379 } as const;

/**
 * Connection settings of a PostgreSQL or Redis dependency from its env (POSTGRES_USER, POSTGRES_PASSWORD,
 * POSTGRES_DB, REDIS_PASSWORD) and address; `database` names the database (postgres) or its number (redis).
 */
export function dataTargetOf(
  engine: 'postgres' | 'redis',
  env: Record<string, string>,
  address: { host: string; port: number },
  database: string | number | undefined,
  label: string,
): DataTarget {
  if (engine === 'redis') {
    const number = Number(database ?? 0);
    return {
      engine,
      ...address,
      ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
      database: Number.isInteger(number) && number >= 0 ? number : 0,
      label,
    };
  }
  const adminDatabase = env.POSTGRES_DB || env.POSTGRES_USER || 'postgres';
  return {
    engine,
    ...address,
    user: env.POSTGRES_USER || 'postgres',
    ...(env.POSTGRES_PASSWORD ? { password: env.POSTGRES_PASSWORD } : {}),
    database: (database === undefined ? '' : String(database)) || adminDatabase,
    adminDatabase,
    label,
  };
}

/**
 * Resolves `spec.target.dependencyRef` of a DataStore: an instance (name + ref) on its App, Domain or Ecosystem,
 * or a Dependency definition directly; connection settings come from the definition's env and ports, with the
 * instance's env overriding. The dependency runs on this machine (127.0.0.1, the host port or else the container port).
 */
export async function resolveTarget(store: Store, dataStore: StoredObject): Promise<DataTarget> {
  const spec = dataStore.effective.spec as Spec;
  const target = spec.target as { dependencyRef?: string; database?: string } | undefined;
  const label = `DataStore/${dataStore.name}`;
  if (!target?.dependencyRef) {
    throw new DvmError('DVM_DATA_TARGET', `${label} has no spec.target.dependencyRef`, {
      path: 'spec.target.dependencyRef',
      object: label,
      fix: 'Name the dependency instance the data goes to, like target: {dependencyRef: platform-db, table: users}.',
    });
  }
  let instanceEnv: unknown;
  let instancePorts: { containerPort: number; hostPort: number }[] = [];
  let definitionName = target.dependencyRef;
  for (const scope of await scopesUp(store, dataStore.placement)) {
    const list = ((scope.effective.spec as Spec)?.dependencies ?? []) as {
      name?: string;
      ref?: string;
      env?: unknown;
      ports?: { containerPort: number; hostPort: number }[];
    }[];
    const instance = list.find((d) => d.name === target.dependencyRef);
    if (instance?.ref) {
      instanceEnv = instance.env;
      instancePorts = instance.ports ?? [];
      definitionName = instance.ref;
      break;
    }
  }
  const stored = await nearest(store, 'Dependency', definitionName, dataStore.placement);
  const builtIn = stored ? undefined : catalogDefinition(definitionName);
  const definition = stored
    ? { name: stored.name, spec: stored.effective.spec as Spec }
    : builtIn
      ? { name: definitionName, spec: builtIn }
      : undefined;
  if (!definition) {
    throw new DvmError(
      'DVM_REF_NOT_FOUND',
      `${label}: dependency "${target.dependencyRef}" resolves to no Dependency definition`,
      {
        path: 'spec.target.dependencyRef',
        object: label,
        fix: 'Apply the Dependency definition (e.g. postgres) and an instance of it on the Domain or Ecosystem.',
      },
    );
  }
  const dspec = definition.spec;
  const env = envMap(dspec.env, instanceEnv);
  const declared = ((dspec.ports ?? []) as { containerPort: number; hostPort?: number }[])[0];
  const override = instancePorts.find((p) => p.containerPort === declared?.containerPort);
  const engine = engineOf(definition.name, dspec.image);
  if (!engine) {
    throw new DvmError(
      'DVM_DATA_TARGET',
      `${label}: seeding ${definition.name} (${String(dspec.image ?? '') || 'no image'}) is not implemented; this build seeds PostgreSQL and Redis`,
      {
        path: 'spec.target.dependencyRef',
        object: label,
        fix: 'Target a postgres or redis dependency.',
      },
    );
  }
  const port = Number(
    env.DVM_PORT ||
      override?.hostPort ||
      declared?.hostPort ||
      declared?.containerPort ||
      DEFAULT_PORT[engine],
  );
  return dataTargetOf(
    engine,
    env,
    { host: env.DVM_HOST || '127.0.0.1', port },
    target.database,
    `${target.dependencyRef} (${definition.name})`,
  );
}
