// Baseline for `dvm apply -f`: the least work an apply can do. Parses the same YAML with the `yaml` package and
// inserts one row per document with raw SQL through node:sqlite, in one transaction, into a table of the
// same shape as dvm's `objects` table (same pragmas, constraint and indexes).
// Usage: node bench/baseline-apply.ts FILE.yaml DB_PATH
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { parseAllDocuments } from 'yaml';

const PARENTS = ['ecosystem', 'domain', 'app', 'workspace'] as const;

/** Parses `file` and inserts every document into a fresh objects table at `dbPath`; returns the row count. */
export function baselineApply(file: string, dbPath: string): number {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const db = new DatabaseSync(dbPath);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS objects (
    uid TEXT PRIMARY KEY, kind TEXT NOT NULL,
    ecosystem TEXT NOT NULL DEFAULT '', domain TEXT NOT NULL DEFAULT '', app TEXT NOT NULL DEFAULT '', workspace TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL, applied TEXT NOT NULL, effective TEXT NOT NULL, provenance TEXT NOT NULL,
    generation INTEGER NOT NULL, resource_version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (kind, ecosystem, domain, app, workspace, name));
    CREATE INDEX IF NOT EXISTS objects_by_name ON objects (kind, name);
    CREATE INDEX IF NOT EXISTS objects_by_parent ON objects (ecosystem, domain, app, workspace);`);
  const insert = db.prepare('INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const now = new Date().toISOString();
  let rows = 0;
  db.exec('BEGIN IMMEDIATE');
  for (const doc of docs) {
    const data = doc.toJS() as { kind: string; metadata: Record<string, string> } | null;
    if (!data) continue;
    const { metadata } = data;
    const parents = PARENTS.map((field) => metadata[field] ?? '');
    const json = JSON.stringify(data);
    rows++;
    insert.run(randomUUID(), data.kind, ...parents, metadata.name, json, json, '{}', 1, rows, now, now);
  }
  db.exec('COMMIT');
  db.close();
  return rows;
}

if (import.meta.main) {
  const [file, dbPath] = process.argv.slice(2);
  process.stdout.write(`${baselineApply(file, dbPath)} rows\n`);
}
