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

/** Rows per upsert statement (a duplicate primary key inside one batch is an error, across batches an update). */
const BATCH_ROWS = 20_000;

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
  await client.query(createTableSql(client, table, fields));
}

/** The CREATE TABLE IF NOT EXISTS statement of a schema (names quoted, enum values escaped as literals). */
export function createTableSql(client: Client, table: string, fields: DataField[]): string {
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
  return `CREATE TABLE IF NOT EXISTS ${id(table)} (${columns.join(', ')})`;
}

/** True when the table has no rows (then records can be copied instead of upserted). */
export async function isEmpty(client: Client, table: string): Promise<boolean> {
  const result = await client.query(
    `SELECT NOT EXISTS (SELECT 1 FROM ${client.escapeIdentifier(table)}) AS empty`,
  );
  return result.rows[0].empty === true;
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

/**
 * Upserts records in batches: one statement per batch whose parameters are one array per column, expanded by
 * `unnest` (`INSERT … SELECT * FROM unnest($1::text[], …) ON CONFLICT (pk) DO UPDATE`), so every value is a bound
 * parameter and a batch costs one round trip and a handful of parameters. Returns the rows written.
 */
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
  const arrays = fields.map((f, i) => `$${i + 1}::${SQL_TYPES[f.type]}[]`);
  const sql = `INSERT INTO ${id(table)} (${columns.join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})${conflict}`;
  let written = 0;
  for (let start = 0; start < records.length; start += BATCH_ROWS) {
    const batch = records.slice(start, start + BATCH_ROWS);
    const params = fields.map((f) =>
      batch.map((record) => {
        const value = record[f.name];
        if (value === undefined || value === null) return null;
        return f.type === 'json' ? JSON.stringify(value) : value;
      }),
    );
    const result = await client.query(sql, params);
    written += result.rowCount ?? batch.length;
  }
  return written;
}

// One CSV field: every value quoted (quotes doubled), so commas, quotes and newlines in data stay data; null is
// the unquoted empty field COPY reads as NULL.
function csvField(value: unknown, type: DataField['type']): string {
  if (value === undefined || value === null) return '';
  const text =
    type === 'json' ? JSON.stringify(value) : value instanceof Date ? value.toISOString() : String(value);
  return `"${text.replace(/"/g, '""')}"`;
}

/**
 * Loads records into a table known to be empty (just created or truncated in this transaction) with COPY FROM
 * STDIN, as psql \copy does: nothing can conflict, so this is the upsert's result at COPY's speed. Duplicate
 * primary keys among the records fail it, as they fail the upsert.
 */
export async function copyInto(
  client: Client,
  table: string,
  fields: DataField[],
  records: Record<string, unknown>[],
): Promise<number> {
  const { from } = await import('pg-copy-streams');
  const { pipeline } = await import('node:stream/promises');
  const { Readable } = await import('node:stream');
  const id = (name: string) => client.escapeIdentifier(name);
  const sql = `COPY ${id(table)} (${fields.map((f) => id(f.name)).join(', ')}) FROM STDIN WITH (FORMAT csv)`;
  const CHUNK = 5000;
  async function* lines() {
    for (let start = 0; start < records.length; start += CHUNK) {
      let out = '';
      for (const record of records.slice(start, start + CHUNK)) {
        out += `${fields.map((f) => csvField(record[f.name], f.type)).join(',')}\n`;
      }
      yield out;
    }
  }
  await pipeline(Readable.from(lines()), client.query(from(sql)));
  return records.length;
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
