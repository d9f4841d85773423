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
  truncate,
  upsert,
  verify,
} from './postgres-seeder.ts';
import { connectRedis, deletePrefix, missingKeys, setRecords } from './redis-seeder.ts';

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

/** Seeds one DataStore: creates its database and table when missing, then upserts its records. */
export async function seedStore(
  platform: Platform,
  dataStore: StoredObject,
  options: { truncate?: boolean; verify?: boolean } = {},
): Promise<StoreSeeded> {
  const started = performance.now();
  const spec = dataStore.effective.spec as Spec;
  const fields = ((spec.schema as { fields?: DataField[] } | undefined)?.fields ?? []) as DataField[];
  const table = (spec.target as { table?: string } | undefined)?.table ?? dataStore.name.replace(/-/g, '_');
  if (fields.length === 0) {
    throw new DvmError('DVM_DATA_INVALID', `DataStore/${dataStore.name} has no spec.schema.fields`, {
      path: 'spec.schema.fields',
      fix: 'Declare the fields (name, type, primary, …) the records follow.',
    });
  }
  // Names and records are checked before anything connects, so a bad store creates nothing.
  checkIdentifier(table, 'spec.target.table');
  for (const [i, f] of fields.entries()) checkIdentifier(f.name, `spec.schema.fields[${i}].name`);
  const records = await recordsOf(platform, dataStore);
  checkRecords(records, fields);
  const target = await resolveTarget(platform.store, dataStore);
  const rows = records.map((r) => r.data);
  const result = (verified?: { rows: number; missing: number }): StoreSeeded => ({
    store: dataStore.name,
    target: target.label,
    table,
    records: rows.length,
    truncated: options.truncate === true,
    ...(verified ? { verified } : {}),
    durationMs: Math.round(performance.now() - started),
  });
  const failIfMissing = (missing: number) => {
    if (missing > 0) {
      throw new DvmError(
        'DVM_DATA_VERIFY_FAILED',
        `DataStore/${dataStore.name}: ${missing} of ${rows.length} records are not in ${table}`,
        {
          fix: 'Look for whatever removes them (TTLs, triggers, constraints), then seed again.',
        },
      );
    }
  };
  if (target.engine === 'redis') {
    // Redis: each record a JSON value under TABLE:PRIMARY-KEY.
    const client = await connectRedis(target);
    try {
      if (options.truncate) await deletePrefix(client, table);
      await setRecords(client, table, fields, rows);
      if (!options.verify) return result();
      const missing = await missingKeys(client, table, fields, rows);
      failIfMissing(missing);
      return result({ rows: rows.length - missing, missing });
    } finally {
      await client.quit().catch(() => {});
    }
  }
  const client = await connectCreating(target);
  try {
    await ensureTable(client, table, fields);
    // One transaction: a store is seeded whole or not at all (and commits once).
    await client.query('BEGIN');
    if (options.truncate) await truncate(client, table);
    try {
      // An empty table (new, or truncated above) cannot conflict: COPY loads it; otherwise upsert.
      if (await isEmpty(client, table)) await copyInto(client, table, fields, rows);
      else await upsert(client, table, fields, rows);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    const verified = options.verify ? await verify(client, table, fields, rows) : undefined;
    if (verified) failIfMissing(verified.missing);
    return result(verified);
  } finally {
    await client.end();
  }
}

/**
 * Seeds a DataLake: its stores in `seedOrder` (the others after, in the order listed), each truncated first when
 * `beforeSeed` is data.truncate and verified after when `afterSeed` is data.verify.
 */
export async function seedLake(platform: Platform, lake: StoredObject): Promise<StoreSeeded[]> {
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
  const seeded: StoreSeeded[] = [];
  for (const store of ordered) {
    seeded.push(
      await seedStore(platform, store, {
        truncate: before === 'data.truncate',
        verify: after === 'data.verify',
      }),
    );
  }
  return seeded;
}
