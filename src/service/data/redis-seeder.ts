import type { RedisClientType } from 'redis';
import { DvmError } from '../../errors/dvm-error.ts';
import type { RedisTarget } from './connection.ts';
import type { DataField } from './postgres-seeder.ts';

/** Opens a Redis connection (node-redis, loaded lazily); DVM_CONNECTOR_UNAVAILABLE when it does not answer. */
export async function connectRedis(target: RedisTarget): Promise<RedisClientType> {
  const { createClient } = await import('redis');
  const client = createClient({
    socket: { host: target.host, port: target.port, connectTimeout: 5000, reconnectStrategy: false },
    ...(target.password ? { password: target.password } : {}),
    database: target.database,
  }) as RedisClientType;
  client.on('error', () => {}); // surfaced by the calls below
  try {
    await client.connect();
  } catch (error) {
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `cannot connect to ${target.label} at ${target.host}:${target.port}: ${(error as Error).message}`,
      {
        fix: 'Start the dependency (or point the instance at a running one with env DVM_PORT), then seed again.',
      },
    );
  }
  return client;
}

/** The key of a record: `PREFIX:PRIMARY` (primary key values joined with `:` when there are several). */
export function keyOf(prefix: string, fields: DataField[], record: Record<string, unknown>): string {
  const primary = fields.filter((f) => f.primary);
  if (primary.length === 0) {
    throw new DvmError('DVM_DATA_INVALID', 'a Redis DataStore needs a primary field: it makes the key', {
      path: 'spec.schema.fields',
      fix: 'Mark the field that identifies a record with primary: true.',
    });
  }
  return `${prefix}:${primary.map((f) => String(record[f.name])).join(':')}`;
}

/** Stores each record as a JSON value under its key (SET; keys and values are arguments, never a command string). */
export async function setRecords(
  client: RedisClientType,
  prefix: string,
  fields: DataField[],
  records: Record<string, unknown>[],
): Promise<number> {
  for (let start = 0; start < records.length; start += 1000) {
    const multi = client.multi();
    for (const record of records.slice(start, start + 1000))
      multi.set(keyOf(prefix, fields, record), JSON.stringify(record));
    await multi.exec();
  }
  return records.length;
}

/** Deletes every key under `PREFIX:` (data.truncate), scanning rather than KEYS. */
export async function deletePrefix(client: RedisClientType, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of client.scanIterator({
    MATCH: `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`,
    COUNT: 1000,
  })) {
    const batch = ([] as string[]).concat(keys as string | string[]);
    if (batch.length) deleted += await client.del(batch);
  }
  return deleted;
}

/** data.verify for Redis: how many record keys are missing. */
export async function missingKeys(
  client: RedisClientType,
  prefix: string,
  fields: DataField[],
  records: Record<string, unknown>[],
): Promise<number> {
  let missing = 0;
  for (const record of records) if (!(await client.exists(keyOf(prefix, fields, record)))) missing++;
  return missing;
}
