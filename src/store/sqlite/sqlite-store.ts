import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { DvmError } from '../../errors/dvm-error.ts';
import { PLACEMENT_FIELDS, type Placement, placementOf } from '../../model/api.ts';
import type { ObjectQuery, ObjectSummary, Referrer, Store, StoredObject, WriteBatch } from '../store.ts';
import { MIGRATIONS } from './migrations.ts';
import { openMigratedDatabase } from './open-database.ts';
import { SqliteRunStore } from './sqlite-run-store.ts';

interface ObjectRow {
  uid: string;
  kind: string;
  ecosystem: string;
  domain: string;
  app: string;
  workspace: string;
  name: string;
  applied: string;
  effective: string;
  provenance: string;
  generation: number;
  resource_version: number;
  created_at: string;
  updated_at: string;
}

const OBJECT_COLUMNS =
  'uid, kind, ecosystem, domain, app, workspace, name, applied, effective, provenance, generation, resource_version, created_at, updated_at';

/** Opens (creating and migrating if needed) the SQLite store at `path`; refuses a store from a newer dvm. */
export function openSqliteStore(path: string): SqliteStore {
  return new SqliteStore(openMigratedDatabase(path, MIGRATIONS, { label: 'the store' }));
}

// A JSON column parsed on first read: most readers need the effective form only, and a big object (a DataStore
// with 100,000 inline records) would otherwise be parsed twice more for nothing.
function lazyJson(target: object, key: string, text: string): void {
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = JSON.parse(text);
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
      return value;
    },
    set(value: unknown) {
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
    },
  });
}

function toStored(row: ObjectRow): StoredObject {
  const placement = placementOf(row as unknown as Record<string, unknown>);
  const stored = {
    uid: row.uid,
    kind: row.kind,
    name: row.name,
    placement,
    effective: JSON.parse(row.effective),
    generation: row.generation,
    resourceVersion: row.resource_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  } as StoredObject;
  lazyJson(stored, 'applied', row.applied);
  lazyJson(stored, 'provenance', row.provenance);
  return stored;
}

/** The embedded store: one SQLite file in WAL mode, one transaction per write batch. */
export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private runs: SqliteRunStore | undefined;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private where(query: ObjectQuery): { clause: string; params: (string | number)[] } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.kinds && query.kinds.length > 0) {
      where.push(`kind IN (${query.kinds.map(() => '?').join(', ')})`);
      params.push(...query.kinds);
    }
    if (query.name !== undefined) {
      where.push('name = ?');
      params.push(query.name);
    }
    for (const field of PLACEMENT_FIELDS) {
      const value = query.placement?.[field];
      if (value !== undefined) {
        where.push(`${field} = ?`);
        params.push(value);
      }
    }
    return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
  }

  async list(query: ObjectQuery): Promise<StoredObject[]> {
    const { clause, params } = this.where(query);
    const sql = `SELECT ${OBJECT_COLUMNS} FROM objects ${clause} ORDER BY kind, ecosystem, domain, app, workspace, name`;
    return (this.statement(sql).all(...params) as unknown as ObjectRow[]).map(toStored);
  }

  async summarize(query: ObjectQuery, paths: string[]): Promise<ObjectSummary[]> {
    const { clause, params } = this.where(query);
    // json_extract with two or more paths returns a JSON array of their values; paths are bound parameters.
    const wanted = ['metadata.labels', ...paths];
    const sql = `SELECT uid, kind, ecosystem, domain, app, workspace, name, created_at, json_extract(effective, ${wanted.map(() => '?').join(', ')}, '$.kind') AS extracted FROM objects ${clause} ORDER BY kind, ecosystem, domain, app, workspace, name`;
    const rows = this.statement(sql).all(...wanted.map(toJsonPath), ...params) as Record<string, string>[];
    return rows.map((row) => {
      const placement = placementOf(row);
      const extracted = JSON.parse(row.extracted) as unknown[];
      const values: Record<string, unknown> = {};
      wanted.forEach((path, i) => {
        values[path] = extracted[i] ?? undefined;
      });
      return { uid: row.uid, kind: row.kind, name: row.name, placement, createdAt: row.created_at, values };
    });
  }

  async get(kind: string, placement: Placement, name: string): Promise<StoredObject | undefined> {
    const row = this.statement(
      `SELECT ${OBJECT_COLUMNS} FROM objects WHERE kind = ? AND ecosystem = ? AND domain = ? AND app = ? AND workspace = ? AND name = ?`,
    ).get(
      kind,
      placement.ecosystem ?? '',
      placement.domain ?? '',
      placement.app ?? '',
      placement.workspace ?? '',
      name,
    ) as ObjectRow | undefined;
    return row ? toStored(row) : undefined;
  }

  async referrers(toKeys: string[]): Promise<Referrer[]> {
    const result: Referrer[] = [];
    const statement = this.statement(
      'SELECT r.to_key, r.path, o.uid, o.kind, o.name, o.ecosystem, o.domain, o.app, o.workspace FROM refs r JOIN objects o ON o.uid = r.from_uid WHERE r.to_key = ? ORDER BY o.kind, o.name',
    );
    for (const toKey of toKeys) {
      for (const row of statement.all(toKey) as Record<string, string>[]) {
        const placement = placementOf(row);
        result.push({
          uid: row.uid,
          kind: row.kind,
          name: row.name,
          placement,
          path: row.path,
          toKey: row.to_key,
        });
      }
    }
    return result;
  }

  async write(batch: WriteBatch): Promise<void> {
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const versionOf = this.statement('SELECT resource_version FROM objects WHERE uid = ?');
      const versionByIdentity = this.statement(
        'SELECT uid, resource_version FROM objects WHERE kind = ? AND ecosystem = ? AND domain = ? AND app = ? AND workspace = ? AND name = ?',
      );
      const deleteObject = this.statement('DELETE FROM objects WHERE uid = ?');
      const upsert = this.statement(
        `INSERT INTO objects (${OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (uid) DO UPDATE SET applied = excluded.applied, effective = excluded.effective,
           provenance = excluded.provenance, generation = excluded.generation,
           resource_version = excluded.resource_version, updated_at = excluded.updated_at`,
      );
      const clearRefs = this.statement('DELETE FROM refs WHERE from_uid = ?');
      const insertRef = this.statement(
        'INSERT OR IGNORE INTO refs (from_uid, to_key, path) VALUES (?, ?, ?)',
      );
      let resourceVersion = Number(
        (this.statement("SELECT value FROM meta WHERE key = 'resourceVersion'").get() as { value: string })
          .value,
      );

      for (const del of batch.deletes) {
        const row = versionOf.get(del.uid) as { resource_version: number } | undefined;
        if (!row || row.resource_version !== del.expectedResourceVersion) throw conflict(del.uid);
        deleteObject.run(del.uid);
      }
      for (const put of batch.puts) {
        const o = put.object;
        const p = o.placement;
        const existing = versionByIdentity.get(
          o.kind,
          p.ecosystem ?? '',
          p.domain ?? '',
          p.app ?? '',
          p.workspace ?? '',
          o.name,
        ) as { uid: string; resource_version: number } | undefined;
        const found = existing ? existing.resource_version : 0;
        if (found !== put.expectedResourceVersion || (existing && existing.uid !== o.uid)) {
          throw conflict(`${o.kind}/${o.name}`);
        }
        resourceVersion += 1;
        o.resourceVersion = resourceVersion;
        o.applied.metadata.resourceVersion = String(resourceVersion);
        o.effective.metadata.resourceVersion = String(resourceVersion);
        upsert.run(
          o.uid,
          o.kind,
          p.ecosystem ?? '',
          p.domain ?? '',
          p.app ?? '',
          p.workspace ?? '',
          o.name,
          JSON.stringify(o.applied),
          JSON.stringify(o.effective),
          JSON.stringify(o.provenance),
          o.generation,
          o.resourceVersion,
          o.createdAt,
          o.updatedAt,
        );
        if (existing) clearRefs.run(o.uid);
        for (const ref of put.refs) insertRef.run(o.uid, ref.toKey, ref.path);
      }
      this.statement("UPDATE meta SET value = ? WHERE key = 'resourceVersion'").run(String(resourceVersion));
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  async fingerprint(): Promise<string> {
    const row = this.statement(
      "SELECT (SELECT value FROM meta WHERE key = 'resourceVersion') AS rv, (SELECT COUNT(*) FROM objects) AS n, (SELECT COUNT(*) FROM refs) AS r",
    ).get() as { rv: string; n: number; r: number };
    return `${row.rv}:${row.n}:${row.r}`;
  }

  /** The run records kept in the same database. */
  runStore(): SqliteRunStore {
    this.runs ??= new SqliteRunStore(this.db);
    return this.runs;
  }

  async close(): Promise<void> {
    this.runs?.flush();
    this.db.close();
  }
}

// `spec.healthCheck.path` → `$."spec"."healthCheck"."path"`: every key quoted, so no key is read as syntax.
function toJsonPath(dotted: string): string {
  return `$${dotted
    .split('.')
    .map((key) => `."${key.replace(/["\\]/g, '')}"`)
    .join('')}`;
}

function conflict(what: string): DvmError {
  return new DvmError('DVM_CONFLICT', `${what} was changed by someone else while this command ran`, {
    fix: 'Run the command again; it will read the current version first.',
  });
}
