import { DvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import type { StoredObject } from '../../store/store.ts';
import type { Platform } from '../platform.ts';
import { resolveTarget } from './connection.ts';
import { nearest } from './lookup.ts';
import {
  checkIdentifier,
  checkRecords,
  connectCreating,
  copyInto,
  type DataField,
  ensureTable,
  isEmpty,
  upsert,
} from './postgres-seeder.ts';
import { connectRedis, setRecords } from './redis-seeder.ts';

/** What seeding one store did. */
export interface StoreSeeded {
  store: string;
  target: string;
  table: string;
  records: number;
  truncated: boolean;
  verified?: { rows: number; missing: number };
  durationMs: number;
}

type Spec = Record<string, unknown>;

/** The records of a DataStore: its referenced DataRecords (nearest by name) and its inline ones. */
export async function recordsOf(
  platform: Platform,
  dataStore: StoredObject,
): Promise<{ data: Record<string, unknown>; source: string }[]> {
  const entries = ((dataStore.effective.spec as Spec).records ?? []) as (
    | { ref: string }
    | { inline: Record<string, unknown> }
  )[];
  const out: { data: Record<string, unknown>; source: string }[] = [];
  for (const [i, entry] of entries.entries()) {
    if ('inline' in entry) {
      out.push({ data: entry.inline, source: `DataStore/${dataStore.name} spec.records[${i}].inline` });
      continue;
    }
    const record = await nearest(platform.store, 'DataRecord', entry.ref, dataStore.placement);
    if (!record) {
      throw new DvmError(
        'DVM_REF_NOT_FOUND',
        `DataStore/${dataStore.name}: DataRecord "${entry.ref}" not found`,
        {
          path: `spec.records[${i}].ref`,
          fix: 'Apply the DataRecord, or fix the name.',
        },
      );
    }
    out.push({
      data: ((record.effective.spec as Spec).data ?? {}) as Record<string, unknown>,
      source: `DataRecord/${record.name}`,
    });
  }
  return out;
}

/** What a DataStore seeds: its table, fields and records, checked (names, records against the schema). */
export interface CheckedStore {
  table: string;
  fields: DataField[];
  records: { data: Record<string, unknown>; source: string }[];
}

/**
 * Checks a DataStore before anything connects (so a bad store creates nothing): it has fields, its table and field
 * names are plain identifiers, and its records follow the schema. DVM_DATA_INVALID (with the path) otherwise.
 */
export async function checkStore(platform: Platform, dataStore: StoredObject): Promise<CheckedStore> {
  const spec = dataStore.effective.spec as Spec;
  const fields = ((spec.schema as { fields?: DataField[] } | undefined)?.fields ?? []) as DataField[];
  const table = (spec.target as { table?: string } | undefined)?.table ?? dataStore.name.replace(/-/g, '_');
  if (fields.length === 0) {
    throw new DvmError('DVM_DATA_INVALID', `DataStore/${dataStore.name} has no spec.schema.fields`, {
      path: 'spec.schema.fields',
      fix: 'Declare the fields (name, type, primary, …) the records follow.',
    });
  }
  checkIdentifier(table, 'spec.target.table');
  for (const [i, f] of fields.entries()) checkIdentifier(f.name, `spec.schema.fields[${i}].name`);
  const records = await recordsOf(platform, dataStore);
  checkRecords(records, fields);
  return { table, fields, records };
}

/**
 * Seeds one DataStore (the data.insert action's work): creates its database and table when missing, then upserts
 * its records. Truncating first and verifying after are the data.truncate and data.verify actions.
 */
export async function seedStore(platform: Platform, dataStore: StoredObject): Promise<StoreSeeded> {
  const started = performance.now();
  const { table, fields, records } = await checkStore(platform, dataStore);
  const target = await resolveTarget(platform.store, dataStore);
  const rows = records.map((r) => r.data);
  const result = (): StoreSeeded => ({
    store: dataStore.name,
    target: target.label,
    table,
    records: rows.length,
    truncated: false,
    durationMs: Math.round(performance.now() - started),
  });
  if (target.engine === 'redis') {
    // Redis: each record a JSON value under TABLE:PRIMARY-KEY.
    const client = await connectRedis(target);
    try {
      await setRecords(client, table, fields, rows);
      return result();
    } finally {
      await client.quit().catch(() => {});
    }
  }
  const client = await connectCreating(target);
  try {
    await ensureTable(client, table, fields);
    // One transaction: a store is seeded whole or not at all (and commits once).
    await client.query('BEGIN');
    try {
      // An empty table (new, or truncated before) cannot conflict: COPY loads it; otherwise upsert.
      if (await isEmpty(client, table)) await copyInto(client, table, fields, rows);
      else await upsert(client, table, fields, rows);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return result();
  } finally {
    await client.end();
  }
}

/** What seeding a DataLake does: its stores in order, each truncated first and verified after, or not. */
export interface LakePlan {
  stores: StoredObject[];
  /** `beforeSeed: {action: data.truncate}`. */
  truncate: boolean;
  /** `afterSeed: {action: data.verify}`. */
  verify: boolean;
}

/**
 * The plan of a DataLake's seed: its stores in `seedOrder` (the others after, in the order listed), each truncated
 * first when `beforeSeed` is data.truncate and verified after when `afterSeed` is data.verify.
 */
export async function lakePlan(platform: Platform, lake: StoredObject): Promise<LakePlan> {
  const spec = lake.effective.spec as Spec;
  const refs = ((spec.dataStores ?? []) as { ref: string }[]).map((d) => d.ref);
  const stores: StoredObject[] = [];
  for (const ref of refs) {
    const [domain, name] = ref.includes('/') ? ref.split('/', 2) : [undefined, ref];
    const from: Placement = { ...lake.placement, ...(domain ? { domain } : {}) };
    const found = await nearest(platform.store, 'DataStore', name, from);
    if (!found) {
      throw new DvmError('DVM_REF_NOT_FOUND', `DataLake/${lake.name}: DataStore "${ref}" not found`, {
        path: 'spec.dataStores',
        fix: 'Apply the DataStore, or fix the reference (DOMAIN/NAME).',
      });
    }
    stores.push(found);
  }
  const order = ((spec.seedOrder ?? []) as string[]).map((n) => n.split('/').pop() as string);
  const rank = (s: StoredObject) => {
    const i = order.indexOf(s.name);
    return i < 0 ? order.length + stores.indexOf(s) : i;
  };
  const ordered = [...stores].sort((a, b) => rank(a) - rank(b));
  const before = (spec.beforeSeed as { action?: string } | undefined)?.action;
  const after = (spec.afterSeed as { action?: string } | undefined)?.action;
  for (const [field, action] of [
    ['beforeSeed', before],
    ['afterSeed', after],
  ] as const) {
    if (action && !['data.truncate', 'data.verify'].includes(action)) {
      throw new DvmError(
        'DVM_ACTION_UNKNOWN',
        `DataLake/${lake.name}: ${field} action ${action} is not supported here`,
        {
          path: `spec.${field}.action`,
          fix: 'Use data.truncate (beforeSeed) or data.verify (afterSeed).',
        },
      );
    }
  }
  return { stores: ordered, truncate: before === 'data.truncate', verify: after === 'data.verify' };
}
