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
  {
    version: 2,
    description: 'run records and the task result cache',
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        root_id TEXT NOT NULL,
        parent_id TEXT,
        level TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        node TEXT NOT NULL DEFAULT '',
        ecosystem TEXT NOT NULL DEFAULT '',
        domain TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        reason TEXT,
        origin TEXT,
        message TEXT,
        trigger TEXT,
        commit_sha TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        exit_code INTEGER,
        log_path TEXT,
        results TEXT NOT NULL DEFAULT '{}',
        fingerprint TEXT,
        cache_note TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        duration_ms INTEGER,
        pid INTEGER,
        seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX runs_by_root ON runs (root_id, seq);
      CREATE INDEX runs_by_object ON runs (level, kind, name, created_at);
      CREATE INDEX runs_by_status ON runs (status);
      CREATE TABLE task_cache (
        fingerprint TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        results TEXT NOT NULL,
        outputs_dir TEXT,
        inputs TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE task_inputs (
        task_key TEXT PRIMARY KEY,
        inputs TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    description:
      "a task's process group in its own column (pid is only ever the dvm process that owns a run)",
    // A run of one task has a single record that is both root and task: one column could not hold both numbers.
    sql: `
      ALTER TABLE runs ADD COLUMN pgid INTEGER;
      UPDATE runs SET pgid = pid, pid = NULL WHERE parent_id IS NOT NULL AND level = 'task';
    `,
  },
  {
    version: 4,
    description: 'how a run was asked for (its options, as JSON), for dvm run --resume',
    sql: 'ALTER TABLE runs ADD COLUMN options TEXT;',
  },
  {
    version: 5,
    description: "what to do about a task's failure (its error's fix), for dvm status",
    sql: 'ALTER TABLE runs ADD COLUMN fix TEXT;',
  },
];

/** The schema version this build of dvm writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
