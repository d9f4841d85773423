import type { Client } from 'pg';
import { DvmError, type ErrorCause } from '../../errors/dvm-error.ts';
import type { PostgresTarget } from './connection.ts';

/** A field of a DataStore schema. */
export interface DataField {
  name: string;
  type: 'string' | 'text' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'date' | 'uuid' | 'json';
  primary?: boolean;
  unique?: boolean;
  nullable?: boolean;
  enum?: (string | number)[];
}

const SQL_TYPES: Record<DataField['type'], string> = {
  string: 'text',
  text: 'text',
  integer: 'bigint',
  number: 'double precision',
  boolean: 'boolean',
  timestamp: 'timestamptz',
  date: 'date',
  uuid: 'uuid',
  json: 'jsonb',
};

/** Table and column names: letters, digits and `_`, not starting with a digit (then quoted as well). */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement. */
const MAX_PARAMS = 60_000;

/** Opens a connection to the target (pg, loaded lazily); DVM_CONNECTOR_UNAVAILABLE when it does not answer. */
export async function connect(target: PostgresTarget, database = target.database): Promise<Client> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database,
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    const code = (error as { code?: string }).code;
    if (code === '3D000') throw error; // the database does not exist: the caller creates it
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `cannot connect to ${target.label} at ${target.host}:${target.port} as ${target.user}: ${(error as Error).message}`,
      {
        fix: 'Start the dependency (or point the instance at a running one with env DVM_PORT), then seed again.',
      },
    );
  }
  return client;
}

/** Connects to the store's database, creating it (from the dependency's own database) when it is missing. */
export async function connectCreating(target: PostgresTarget): Promise<Client> {
  try {
    return await connect(target);
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  }
  checkIdentifier(target.database, 'spec.target.database');
  const admin = await connect(target, target.adminDatabase);
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(target.database)}`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error; // created meanwhile
  } finally {
    await admin.end();
  }
  return connect(target);
}

/** Refuses a name that is not a plain identifier (it is quoted anyway; this keeps names portable and obvious). */
export function checkIdentifier(name: string, path: string): void {
  if (!IDENTIFIER.test(name)) {
    throw new DvmError('DVM_DATA_INVALID', `"${name}" is not a table or column name`, {
      path,
      fix: 'Use letters, digits and "_" only, starting with a letter or "_" (at most 63 characters).',
    });
  }
}

/** Creates the table when missing: column types, primary key, unique columns, enums as CHECK constraints. */
export async function ensureTable(client: Client, table: string, fields: DataField[]): Promise<void> {
  checkIdentifier(table, 'spec.target.table');
  for (const [i, f] of fields.entries()) checkIdentifier(f.name, `spec.schema.fields[${i}].name`);
  const id = (name: string) => client.escapeIdentifier(name);
  const columns = fields.map((f) => {
    const parts = [id(f.name), SQL_TYPES[f.type]];
    if (f.primary || f.nullable === false) parts.push('NOT NULL');
    if (f.unique && !f.primary) parts.push('UNIQUE');
    if (f.enum) {
      const literals = f.enum.map((v) => (typeof v === 'number' ? String(v) : client.escapeLiteral(v)));
      parts.push(`CHECK (${id(f.name)} IN (${literals.join(', ')}))`);
    }
    return parts.join(' ');
  });
  const primary = fields.filter((f) => f.primary).map((f) => id(f.name));
  if (primary.length) columns.push(`PRIMARY KEY (${primary.join(', ')})`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${id(table)} (${columns.join(', ')})`);
}

/** Checks records against the schema: unknown fields, missing primary keys, enum values; every problem listed. */
export function checkRecords(
  records: { data: Record<string, unknown>; source: string }[],
  fields: DataField[],
): void {
  const names = new Set(fields.map((f) => f.name));
  const causes: ErrorCause[] = [];
  for (const { data, source } of records) {
    for (const key of Object.keys(data)) {
      if (!names.has(key))
        causes.push({
          code: 'DVM_DATA_INVALID',
          object: source,
          path: key,
          message: `field "${key}" is not in the schema`,
        });
    }
    for (const f of fields) {
      const v = data[f.name];
      if (f.primary && (v === undefined || v === null)) {
        causes.push({
          code: 'DVM_DATA_INVALID',
          object: source,
          path: f.name,
          message: `primary key field "${f.name}" is missing`,
        });
      }
      if (f.enum && v !== undefined && v !== null && !f.enum.includes(v as string | number)) {
        causes.push({
          code: 'DVM_DATA_INVALID',
          object: source,
          path: f.name,
          message: `"${String(v)}" is not one of ${f.enum.join(', ')}`,
        });
      }
    }
  }
  if (causes.length) {
    throw new DvmError('DVM_DATA_INVALID', `${causes.length} record problem(s); nothing was seeded`, {
      causes,
      fix: 'Make the records match the DataStore schema (fields, primary key, enum values).',
    });
  }
}

/** Upserts records in batches (`ON CONFLICT (pk) DO UPDATE`), every value a bound parameter; returns the row count. */
export async function upsert(
  client: Client,
  table: string,
  fields: DataField[],
  records: Record<string, unknown>[],
): Promise<number> {
  const id = (name: string) => client.escapeIdentifier(name);
  const columns = fields.map((f) => id(f.name));
  const primary = fields.filter((f) => f.primary).map((f) => id(f.name));
  const updates = fields.filter((f) => !f.primary).map((f) => `${id(f.name)} = EXCLUDED.${id(f.name)}`);
  const conflict = primary.length
    ? ` ON CONFLICT (${primary.join(', ')}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`
    : '';
  const perBatch = Math.max(1, Math.floor(MAX_PARAMS / fields.length));
  let written = 0;
  for (let start = 0; start < records.length; start += perBatch) {
    const batch = records.slice(start, start + perBatch);
    const params: unknown[] = [];
    const rows = batch.map((record) => {
      const placeholders = fields.map((f) => {
        const value = record[f.name];
        params.push(value === undefined ? null : f.type === 'json' ? JSON.stringify(value) : value);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const result = await client.query(
      `INSERT INTO ${id(table)} (${columns.join(', ')}) VALUES ${rows.join(', ')}${conflict}`,
      params,
    );
    written += result.rowCount ?? batch.length;
  }
  return written;
}

/** Empties the table (data.truncate). */
export async function truncate(client: Client, table: string): Promise<void> {
  checkIdentifier(table, 'spec.target.table');
  await client.query(`TRUNCATE TABLE ${client.escapeIdentifier(table)}`);
}

/** data.verify: every record is in the table (by primary key) and the row count is at least the record count. */
export async function verify(
  client: Client,
  table: string,
  fields: DataField[],
  records: Record<string, unknown>[],
): Promise<{ rows: number; missing: number }> {
  const id = (name: string) => client.escapeIdentifier(name);
  const count = await client.query(`SELECT count(*)::bigint AS n FROM ${id(table)}`);
  const rows = Number(count.rows[0].n);
  const primary = fields.filter((f) => f.primary);
  let missing = 0;
  if (primary.length === 1 && records.length) {
    const keys = records.map((r) => r[primary[0].name]);
    const found = await client.query(
      `SELECT count(*)::bigint AS n FROM ${id(table)} WHERE ${id(primary[0].name)}::text = ANY($1::text[])`,
      [keys.map(String)],
    );
    missing = new Set(keys.map(String)).size - Number(found.rows[0].n);
  }
  return { rows, missing };
}
