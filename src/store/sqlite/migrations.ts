/** One schema change of the SQLite store; `version` is written to `PRAGMA user_version`. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Every migration in order; append only, never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'objects, references and store metadata',
    sql: `
      CREATE TABLE objects (
        uid TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        ecosystem TEXT NOT NULL DEFAULT '',
        domain TEXT NOT NULL DEFAULT '',
        app TEXT NOT NULL DEFAULT '',
        workspace TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL,
        applied TEXT NOT NULL,
        effective TEXT NOT NULL,
        provenance TEXT NOT NULL,
        generation INTEGER NOT NULL,
        resource_version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (kind, ecosystem, domain, app, workspace, name)
      );
      CREATE INDEX objects_by_name ON objects (kind, name);
      CREATE INDEX objects_by_parent ON objects (ecosystem, domain, app, workspace);
      CREATE TABLE refs (
        from_uid TEXT NOT NULL REFERENCES objects (uid) ON DELETE CASCADE,
        to_key TEXT NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (from_uid, to_key, path)
      );
      CREATE INDEX refs_by_target ON refs (to_key);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta (key, value) VALUES ('resourceVersion', '0');
    `,
  },
];

/** The schema version this build of dvm writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
