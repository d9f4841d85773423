import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { CacheEntry, RunFilter, RunLevel, RunOptions, RunRecord, RunStatus, RunStore } from '../runs.ts';

const COLUMNS = [
  'id',
  'root_id',
  'parent_id',
  'level',
  'kind',
  'name',
  'node',
  'ecosystem',
  'domain',
  'status',
  'reason',
  'origin',
  'message',
  'trigger',
  'commit_sha',
  'attempts',
  'exit_code',
  'log_path',
  'results',
  'fingerprint',
  'cache_note',
  'created_at',
  'started_at',
  'finished_at',
  'duration_ms',
  'pid',
  'seq',
  'pgid',
  'options',
  'fix',
] as const;

type Row = Record<(typeof COLUMNS)[number], string | number | null>;

function toRow(r: RunRecord): (string | number | null)[] {
  return [
    r.id,
    r.rootId,
    r.parentId ?? null,
    r.level,
    r.kind,
    r.name,
    r.node,
    r.ecosystem ?? '',
    r.domain ?? '',
    r.status,
    r.reason ?? null,
    r.origin ?? null,
    r.message ?? null,
    r.trigger ?? null,
    r.commit ?? null,
    r.attempts,
    r.exitCode ?? null,
    r.logPath ?? null,
    JSON.stringify(r.results),
    r.fingerprint ?? null,
    r.cacheNote ?? null,
    r.createdAt,
    r.startedAt ?? null,
    r.finishedAt ?? null,
    r.durationMs ?? null,
    r.pid ?? null,
    r.seq,
    r.pgid ?? null,
    r.options ? JSON.stringify(r.options) : null,
    r.fix ?? null,
  ];
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function fromRow(row: Row): RunRecord {
  return {
    id: String(row.id),
    rootId: String(row.root_id),
    parentId: opt(row.parent_id as string | null),
    level: row.level as RunLevel,
    kind: String(row.kind),
    name: String(row.name),
    node: String(row.node),
    ecosystem: row.ecosystem ? String(row.ecosystem) : undefined,
    domain: row.domain ? String(row.domain) : undefined,
    status: row.status as RunStatus,
    reason: opt(row.reason as string | null),
    origin: opt(row.origin as 'user' | 'system' | null),
    message: opt(row.message as string | null),
    trigger: opt(row.trigger as string | null),
    commit: opt(row.commit_sha as string | null),
    attempts: Number(row.attempts),
    exitCode: opt(row.exit_code as number | null),
    logPath: opt(row.log_path as string | null),
    results: JSON.parse(String(row.results)),
    fingerprint: opt(row.fingerprint as string | null),
    cacheNote: opt(row.cache_note as string | null),
    createdAt: String(row.created_at),
    startedAt: opt(row.started_at as string | null),
    finishedAt: opt(row.finished_at as string | null),
    durationMs: opt(row.duration_ms as number | null),
    pid: opt(row.pid as number | null),
    seq: Number(row.seq),
    pgid: opt(row.pgid as number | null),
    options: row.options ? (JSON.parse(String(row.options)) as RunOptions) : undefined,
    fix: opt(row.fix as string | null),
  };
}

/**
 * Run records in SQLite. Saves are queued and written together (one transaction per flush, at most every
 * `flushMs`): a 1,000-task workflow changes state thousands of times, and one durable commit each would cost
 * more than the tasks themselves. Reads flush first, so a process always sees its own writes.
 */
export class SqliteRunStore implements RunStore {
  private readonly db: DatabaseSync;
  private readonly pending = new Map<string, RunRecord>();
  private readonly statements = new Map<string, StatementSync>();
  private timer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;

  constructor(db: DatabaseSync, options: { flushMs?: number } = {}) {
    this.db = db;
    this.flushMs = options.flushMs ?? 25;
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  save(record: RunRecord): void {
    // Kept by reference: the write takes the record as it is then (the engine saves every change it makes).
    this.pending.set(record.id, record);
    if (!this.timer) {
      this.timer = setTimeout(() => this.#write(false), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes the queued records durably (a run's end, and before reads). */
  flush(): void {
    this.#write(true);
  }

  // The periodic writes while a run goes commit without an fsync (WAL, synchronous=NORMAL): a killed dvm loses
  // nothing, only a power cut can lose the last updates, and the next dvm then finds the run Interrupted. The
  // connection's other writes (apply) and explicit flushes keep synchronous=FULL.
  #write(durable: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    // An upsert changes a known row in place (only the indexes whose columns changed); REPLACE would delete and
    // re-insert it, index entries and all.
    const upsert = this.statement(
      `INSERT INTO runs (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (id) DO UPDATE SET ${COLUMNS.filter((c) => c !== 'id')
         .map((c) => `${c} = excluded.${c}`)
         .join(', ')}`,
    );
    if (!durable) this.statement('PRAGMA synchronous = NORMAL').run();
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        for (const record of this.pending.values()) upsert.run(...toRow(record));
        this.db.exec('COMMIT');
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      if (!durable) this.statement('PRAGMA synchronous = FULL').run();
    }
    this.pending.clear();
  }

  get(id: string): RunRecord | undefined {
    this.flush();
    const row = this.statement(`SELECT ${COLUMNS.join(', ')} FROM runs WHERE id = ?`).get(id) as
      | Row
      | undefined;
    return row ? fromRow(row) : undefined;
  }

  tree(rootId: string): RunRecord[] {
    this.flush();
    return (
      this.statement(`SELECT ${COLUMNS.join(', ')} FROM runs WHERE root_id = ? ORDER BY seq`).all(
        rootId,
      ) as Row[]
    ).map(fromRow);
  }

  list(filter: RunFilter = {}): RunRecord[] {
    this.flush();
    const where = ['1 = 1'];
    const params: (string | number)[] = [];
    if (filter.roots !== false) where.push('parent_id IS NULL');
    // Every level, said so that the runs_by_object index (level, kind, name, created_at) serves the query.
    else if (filter.kind)
      where.push(`level IN ('job', 'orchestration', 'pipeline', 'stage', 'workflow', 'task')`);
    // An empty ecosystem or domain asks for runs of objects without one (stored as '').
    for (const column of ['kind', 'name', 'ecosystem', 'domain'] as const) {
      const value = filter[column];
      if (value === undefined || (value === '' && (column === 'kind' || column === 'name'))) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    params.push(filter.limit ?? 50);
    const sql = `SELECT ${COLUMNS.join(', ')} FROM runs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.statement(sql).all(...params) as Row[]).map(fromRow);
  }

  active(): RunRecord[] {
    this.flush();
    const sql = `SELECT ${COLUMNS.join(', ')} FROM runs WHERE parent_id IS NULL AND status IN ('Running', 'Pending')`;
    return (this.statement(sql).all() as Row[]).map(fromRow);
  }

  cacheGet(fingerprint: string): CacheEntry | undefined {
    const row = this.statement(
      'SELECT fingerprint, run_id, results, outputs_dir, inputs, created_at FROM task_cache WHERE fingerprint = ?',
    ).get(fingerprint) as Record<string, string | null> | undefined;
    if (!row) return undefined;
    return {
      fingerprint: String(row.fingerprint),
      runId: String(row.run_id),
      results: JSON.parse(String(row.results)),
      outputsDir: row.outputs_dir ?? undefined,
      inputs: JSON.parse(String(row.inputs)),
      createdAt: String(row.created_at),
    };
  }

  cachePut(entry: CacheEntry): void {
    this.statement(
      'INSERT OR REPLACE INTO task_cache (fingerprint, run_id, results, outputs_dir, inputs, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      entry.fingerprint,
      entry.runId,
      JSON.stringify(entry.results),
      entry.outputsDir ?? null,
      JSON.stringify(entry.inputs),
      entry.createdAt,
    );
  }

  lastInputs(taskKey: string): Record<string, string> | undefined {
    const row = this.statement('SELECT inputs FROM task_inputs WHERE task_key = ?').get(taskKey) as
      | { inputs: string }
      | undefined;
    return row ? JSON.parse(row.inputs) : undefined;
  }

  setLastInputs(taskKey: string, inputs: Record<string, string>): void {
    this.statement('INSERT OR REPLACE INTO task_inputs (task_key, inputs) VALUES (?, ?)').run(
      taskKey,
      JSON.stringify(inputs),
    );
  }
}
