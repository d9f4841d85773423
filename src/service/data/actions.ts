import type { ActionDefinition } from '../../actions/action.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { StoredObject } from '../../store/store.ts';
import { backupActions } from '../deps/backup-actions.ts';
import { openPlatform, type Platform } from '../platform.ts';
import { resolveTarget } from './connection.ts';
import { checkIdentifier, connect, type DataField, truncate, verify } from './postgres-seeder.ts';
import { connectRedis, deletePrefix, keyOf, missingKeys } from './redis-seeder.ts';
import { recordsOf, seedStore } from './seed.ts';

/** Input of the data.* actions: a DataStore by name, `DOMAIN/NAME`, with its ecosystem when names repeat. */
export type DataActionInput = { store: string; ecosystem?: string; keys?: (string | number)[] };

const STORE_INPUT = {
  type: 'object',
  additionalProperties: false,
  required: ['store'],
  properties: {
    store: {
      type: 'string',
      pattern: '^([a-z0-9][-a-z0-9._]*/)?[a-z0-9][-a-z0-9._]*$',
      description: 'DataStore: NAME or DOMAIN/NAME.',
    },
    ecosystem: {
      type: 'string',
      minLength: 1,
      description: 'Ecosystem of the store (when the name is in several).',
    },
  },
} as const;

const OUTPUT = { type: 'object', additionalProperties: true } as const;

async function findStore(platform: Platform, input: DataActionInput): Promise<StoredObject> {
  const [domain, name] = input.store.includes('/') ? input.store.split('/', 2) : [undefined, input.store];
  const found = await platform.store.list({
    kinds: ['DataStore'],
    name,
    placement: { ...(input.ecosystem ? { ecosystem: input.ecosystem } : {}), ...(domain ? { domain } : {}) },
  });
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    throw new DvmError('DVM_TARGET_NOT_FOUND', `no DataStore "${input.store}"`, {
      fix: 'Check the name with `dvm get datastores -A`.',
      details: { origin: 'user' },
    });
  }
  throw new DvmError('DVM_AMBIGUOUS', `DataStore "${input.store}" exists in ${found.length} places`, {
    fix: 'Give it as DOMAIN/NAME, and the ecosystem when needed.',
    details: { origin: 'user' },
  });
}

/**
 * The input by which the data.* actions name this DataStore (`DOMAIN/NAME` and its ecosystem), checked to find it
 * and no other; DVM_AMBIGUOUS when they cannot name it alone (say, a store of the same name in an App's scope).
 */
export async function storeInput(platform: Platform, store: StoredObject): Promise<DataActionInput> {
  const input: DataActionInput = {
    store: store.placement.domain ? `${store.placement.domain}/${store.name}` : store.name,
    ...(store.placement.ecosystem ? { ecosystem: store.placement.ecosystem } : {}),
  };
  const found = await findStore(platform, input).catch(() => undefined);
  if (found?.uid !== store.uid) {
    throw new DvmError(
      'DVM_AMBIGUOUS',
      `DataStore/${store.name} cannot be named alone for the data.* actions (store=${input.store}${input.ecosystem ? `, ecosystem=${input.ecosystem}` : ''} names ${found ? 'another one' : 'none or several'})`,
      { fix: 'Give the DataStores distinct names within their ecosystem, then seed again.' },
    );
  }
  return input;
}

// A PostgreSQL error's SQLSTATE.
const sqlState = (error: unknown) => (error as { code?: unknown } | undefined)?.code;

function fieldsOf(store: StoredObject): { table: string; fields: DataField[] } {
  const spec = store.effective.spec as Record<string, unknown>;
  const table = (spec.target as { table?: string } | undefined)?.table ?? store.name.replace(/-/g, '_');
  checkIdentifier(table, 'spec.target.table');
  return {
    table,
    fields: ((spec.schema as { fields?: DataField[] } | undefined)?.fields ?? []) as DataField[],
  };
}

type SqlClient = Awaited<ReturnType<typeof connect>>;
type KvClient = Awaited<ReturnType<typeof connectRedis>>;

// data.verify's answer, or DVM_DATA_VERIFY_FAILED when records are missing.
function report(
  store: StoredObject,
  table: string,
  records: number,
  result: { rows: number; missing: number },
) {
  if (result.missing > 0) {
    throw new DvmError(
      'DVM_DATA_VERIFY_FAILED',
      `${result.missing} of ${records} records of ${store.name} are not in ${table}`,
      {
        fix: `Seed it again: dvm seed datastore ${store.name}`,
        details: { origin: 'user', ...result },
      },
    );
  }
  return { store: store.name, table, records, ...result };
}

/** The data.* actions of a dvm home: they read DataStores from its store and act on their PostgreSQL or Redis targets. */
export function dataActions(home: string): ActionDefinition[] {
  let platform: Promise<Platform> | undefined;
  const open = () => {
    platform ??= openPlatform(home);
    return platform;
  };
  // Runs `sql` (PostgreSQL) or `kv` (Redis) on the store's target, closing the connection after.
  const onTarget = async <T = Record<string, unknown>>(
    input: DataActionInput,
    sql: (store: StoredObject, p: Platform, client: SqlClient) => Promise<T>,
    kv: (store: StoredObject, p: Platform, client: KvClient) => Promise<T>,
  ): Promise<T> => {
    const p = await open();
    const store = await findStore(p, input);
    const target = await resolveTarget(p.store, store);
    if (target.engine === 'redis') {
      const client = await connectRedis(target);
      try {
        return await kv(store, p, client);
      } finally {
        await client.quit().catch(() => {});
      }
    }
    const client = await connect(target);
    try {
      return await sql(store, p, client);
    } finally {
      await client.end();
    }
  };
  const records = async (p: Platform, store: StoredObject) => (await recordsOf(p, store)).map((r) => r.data);

  const insert: ActionDefinition<DataActionInput, Record<string, unknown>> = {
    name: 'data.insert',
    version: '1.0.0',
    description:
      "Seed a DataStore's records into its target (table created when missing; upsert by primary key).",
    risk: 'write',
    timeouts: { defaultMs: 300_000, maxMs: 3_600_000 },
    inputSchema: STORE_INPUT,
    outputSchema: OUTPUT,
    async handler(input) {
      const p = await open();
      return { ...(await seedStore(p, await findStore(p, input))) };
    },
  };
  const truncateAction: ActionDefinition<DataActionInput, Record<string, unknown>> = {
    name: 'data.truncate',
    version: '1.0.0',
    description:
      "Empty a DataStore's table (or delete its Redis keys); a table or database not created yet is already empty.",
    risk: 'destructive',
    timeouts: { defaultMs: 60_000, maxMs: 600_000 },
    inputSchema: STORE_INPUT,
    outputSchema: OUTPUT,
    async handler(input) {
      try {
        return await onTarget<Record<string, unknown>>(
          input,
          async (store, _p, client) => {
            const { table } = fieldsOf(store);
            try {
              await truncate(client, table);
            } catch (error) {
              // 42P01: no such table, nothing to empty (a DataLake's beforeSeed before its first seed).
              if (sqlState(error) !== '42P01') throw error;
              return { store: store.name, table, truncated: false, missing: 'table' };
            }
            return { store: store.name, table, truncated: true };
          },
          async (store, _p, client) => {
            const { table } = fieldsOf(store);
            return { store: store.name, prefix: table, deleted: await deletePrefix(client, table) };
          },
        );
      } catch (error) {
        // 3D000: the store's database does not exist yet: nothing to empty either.
        if (sqlState(error) !== '3D000') throw error;
        const store = await findStore(await open(), input);
        return { store: store.name, table: fieldsOf(store).table, truncated: false, missing: 'database' };
      }
    },
  };
  const verifyAction: ActionDefinition<DataActionInput, Record<string, unknown>> = {
    name: 'data.verify',
    version: '1.0.0',
    description:
      'Check that every record of a DataStore is in its target (by primary key); fails when some are missing.',
    risk: 'read',
    timeouts: { defaultMs: 60_000, maxMs: 600_000 },
    inputSchema: STORE_INPUT,
    outputSchema: OUTPUT,
    handler: (input) =>
      onTarget<Record<string, unknown>>(
        input,
        async (store, p, client) => {
          const { table, fields } = fieldsOf(store);
          const rows = await records(p, store);
          return report(store, table, rows.length, await verify(client, table, fields, rows));
        },
        async (store, p, client) => {
          const { table, fields } = fieldsOf(store);
          const rows = await records(p, store);
          const missing = await missingKeys(client, table, fields, rows);
          return report(store, table, rows.length, { rows: rows.length - missing, missing });
        },
      ),
  };
  const deleteAction: ActionDefinition<DataActionInput, Record<string, unknown>> = {
    name: 'data.delete',
    version: '1.0.0',
    description: "Delete a DataStore's rows by primary key (its own records' keys when none are given).",
    risk: 'destructive',
    timeouts: { defaultMs: 60_000, maxMs: 600_000 },
    inputSchema: {
      ...STORE_INPUT,
      properties: {
        ...STORE_INPUT.properties,
        keys: {
          type: 'array',
          items: { type: ['string', 'number'] },
          maxItems: 100_000,
          description: 'Primary key values.',
        },
      },
    },
    outputSchema: OUTPUT,
    handler: (input) =>
      onTarget<Record<string, unknown>>(
        input,
        async (store, p, client) => {
          const { table, fields } = fieldsOf(store);
          const primary = fields.filter((f) => f.primary);
          if (primary.length !== 1) {
            throw new DvmError(
              'DVM_DATA_INVALID',
              `data.delete needs a single-column primary key; ${store.name} has ${primary.length}`,
              {
                fix: 'Declare exactly one primary field, or delete with SQL.',
                details: { origin: 'user' },
              },
            );
          }
          const keys =
            input.keys ?? (await records(p, store)).map((r) => r[primary[0].name] as string | number);
          const id = (name: string) => client.escapeIdentifier(name);
          const result = await client.query(
            `DELETE FROM ${id(table)} WHERE ${id(primary[0].name)}::text = ANY($1::text[])`,
            [keys.map(String)],
          );
          return { store: store.name, table, deleted: result.rowCount ?? 0 };
        },
        async (store, p, client) => {
          const { table, fields } = fieldsOf(store);
          const primary = fields.find((f) => f.primary)?.name ?? 'id';
          const rows = input.keys ? input.keys.map((k) => ({ [primary]: k })) : await records(p, store);
          const keys = rows.map((r) => keyOf(table, fields, r));
          return { store: store.name, prefix: table, deleted: keys.length ? await client.del(keys) : 0 };
        },
      ),
  };
  // Decided on the store in one form (`DOMAIN/NAME` and its ecosystem), so a forbid on `shop/products` holds for
  // `store=products` too; a name no store has is decided as sent (the action fails the same way), and one several
  // have is refused (DVM_AMBIGUOUS) before any decision.
  const canonicalStore = async (input: DataActionInput): Promise<DataActionInput | undefined> => {
    let store: StoredObject;
    try {
      store = await findStore(await open(), input);
    } catch (error) {
      if ((error as DvmError).code === 'DVM_TARGET_NOT_FOUND') return undefined;
      throw error;
    }
    return { ...input, ...(await storeInput(await open(), store)) };
  };
  const stores = [insert, truncateAction, verifyAction, deleteAction].map((definition) => ({
    ...definition,
    canonicalInput: canonicalStore,
  }));
  return [...(stores as unknown as ActionDefinition[]), ...backupActions(home)];
}
