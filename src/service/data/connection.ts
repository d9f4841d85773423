import { DvmError } from '../../errors/dvm-error.ts';
import type { Store, StoredObject } from '../../store/store.ts';
import { catalogDefinition } from '../deps/catalog.ts';
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

type EnvEntry = { name: string; value?: unknown };
type Spec = Record<string, unknown>;

function envMap(...lists: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const list of lists) {
    for (const e of (Array.isArray(list) ? list : []) as EnvEntry[]) out[e.name] = String(e.value ?? '');
  }
  return out;
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
  const image = String(dspec.image ?? '');
  const env = envMap(dspec.env, instanceEnv);
  const declared = ((dspec.ports ?? []) as { containerPort: number; hostPort?: number }[])[0];
  const override = instancePorts.find((p) => p.containerPort === declared?.containerPort);
  const port = declared ? { ...declared, ...(override ? { hostPort: override.hostPort } : {}) } : undefined;
  if (definition.name === 'redis' || /(^|\/)redis(:|$)/.test(image)) {
    const database = Number(target.database ?? 0);
    return {
      engine: 'redis',
      host: env.DVM_HOST || '127.0.0.1',
      port: Number(env.DVM_PORT || port?.hostPort || port?.containerPort || 6379),
      ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
      database: Number.isInteger(database) && database >= 0 ? database : 0,
      label: `${target.dependencyRef} (${definition.name})`,
    };
  }
  if (definition.name !== 'postgres' && !/(^|\/)postgres(:|$)/.test(image)) {
    throw new DvmError(
      'DVM_DATA_TARGET',
      `${label}: seeding ${definition.name} (${image || 'no image'}) is not implemented yet; this build seeds PostgreSQL`,
      {
        path: 'spec.target.dependencyRef',
        object: label,
        fix: 'Target a postgres dependency (Redis and others come later).',
      },
    );
  }
  const adminDatabase = env.POSTGRES_DB || env.POSTGRES_USER || 'postgres';
  return {
    engine: 'postgres',
    host: env.DVM_HOST || '127.0.0.1',
    port: Number(env.DVM_PORT || port?.hostPort || port?.containerPort || 5432),
    user: env.POSTGRES_USER || 'postgres',
    ...(env.POSTGRES_PASSWORD ? { password: env.POSTGRES_PASSWORD } : {}),
    database: target.database || adminDatabase,
    adminDatabase,
    label: `${target.dependencyRef} (${definition.name})`,
  };
}
