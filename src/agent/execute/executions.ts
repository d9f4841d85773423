import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { ERROR_CODES, type ErrorCode } from '../../errors/codes.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { GroupCommitter } from '../store/group-commit.ts';
import { statement } from '../store/statements.ts';
import { type CheckedExecutionFilters, type ExecutionPage, queryExecutions } from './execution-query.ts';
import { polledEventLog } from './polled-event-log.ts';
import type { AuditRecord, AuditSink } from './types.ts';

/** Where an execution is: running, or how it ended. */
export type ExecutionStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

/** One event of an execution, numbered from 1 (the SSE `id`, so `Last-Event-ID` resumes after it). */
export interface ExecutionEvent {
  id: number;
  /** `truncated` once log lines passed the output cap (no more `log` events follow). */
  type: 'started' | 'progress' | 'log' | 'truncated' | 'completed' | 'failed';
  at: string;
  data: Record<string, unknown>;
}

/** An execution as `GET /v1/executions/{id}` shows it. */
export interface ExecutionRecord {
  id: string;
  request_id?: string;
  principal: string;
  action: string;
  version: string;
  env?: string;
  target?: Record<string, unknown>;
  status: ExecutionStatus;
  result?: unknown;
  error?: Record<string, unknown>;
  created_at: string;
  finished_at?: string;
}

interface Live {
  record: ExecutionRecord;
  events: ExecutionEvent[];
  listeners: Set<(event: ExecutionEvent | null) => void>;
  /** Set once the end is durable: no event follows. */
  ended: boolean;
}

/**
 * The events of one execution as a reader takes them at its own pace: `events` (a live execution's grows, shared by
 * every reader), `ended()` once no more will come, and `watch()` to hear of new events and of the end.
 */
export interface EventLog {
  readonly events: readonly ExecutionEvent[];
  ended(): boolean;
  /** Calls `onChange` after each new event and once at the end; returns the function that stops it. */
  watch(onChange: () => void): () => void;
}

/** Index of the first event after `afterId` (event ids only grow). */
export function indexAfter(events: readonly ExecutionEvent[], afterId: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (events[middle].id > afterId) high = middle;
    else low = middle + 1;
  }
  return low;
}

interface Row {
  id: string;
  request_id: string | null;
  principal: string;
  action: string;
  version: string;
  env: string | null;
  target: string | null;
  status: ExecutionStatus;
  result: string | null;
  error: string | null;
  pid: number | null;
  created_at: string;
  finished_at: string | null;
}

// Executions stored as running that an agent of this process runs. Another agent opened on the same database in
// this process (each run of `dvm serve --no-api` opens its own for its action tasks) must not reap them (same pid,
// not live in its own memory) as those of a dead process.
const RUNNING_IN_THIS_PROCESS = new Set<string>();

/**
 * The id of the final event of an interrupted execution: the largest a client can send back as Last-Event-ID.
 * Its process died with events that were streamed but not yet stored, so a resuming client may hold an id past
 * the last stored one; the final event must still come after whatever it saw.
 */
export const INTERRUPTED_EVENT_ID = 10 ** 15 - 1;

const LIFECYCLE = new Set<ExecutionEvent['type']>(['started', 'completed', 'failed']);

// How long a finished execution's events stay in memory for late SSE clients (then they come from the store),
// and how many at most: under load a time limit alone would keep minutes of results on the heap.
const KEEP_FINISHED_MS = 60_000;
const KEEP_FINISHED_MAX = 1_000;

/** A new execution id: `x` + time + random, sortable by creation. */
export function newExecutionId(): string {
  return `x${Date.now().toString(36)}${randomUUID().slice(24)}`;
}

/** The columns of an `executions` row that a record shows; `result` and `error` only where they were selected. */
export type ExecutionColumns = Omit<Row, 'result' | 'error' | 'pid'> & Partial<Pick<Row, 'result' | 'error'>>;

// A JSON column's value; text that is not JSON (changed outside dvm) is shown as such instead of failing the read.
function stored(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { damaged: 'the stored value is not JSON (changed outside dvm)', text: text.slice(0, 200) };
  }
}

/** An `executions` row as a record (`GET /v1/executions/{id}`, and without result and error a list row). */
export function recordOf(row: ExecutionColumns): ExecutionRecord {
  return {
    id: row.id,
    ...(row.request_id ? { request_id: row.request_id } : {}),
    principal: row.principal,
    action: row.action,
    version: row.version,
    ...(row.env ? { env: row.env } : {}),
    ...(row.target ? { target: stored(row.target) as ExecutionRecord['target'] } : {}),
    status: row.status,
    ...(row.result ? { result: stored(row.result) } : {}),
    ...(row.error ? { error: stored(row.error) as ExecutionRecord['error'] } : {}),
    created_at: row.created_at,
    ...(row.finished_at ? { finished_at: row.finished_at } : {}),
  };
}

// The `failed` audit entry of an execution found interrupted: who asked for what, as its `allowed` entry says.
function interruptedEntry(
  db: DatabaseSync,
  row: Pick<Row, 'id' | 'request_id' | 'principal' | 'action' | 'version' | 'env'> & { pid: number | null },
  error: { message?: unknown },
  at: string,
): AuditRecord {
  const allowed = statement(
    db,
    "SELECT entry FROM audit WHERE request_id = ? AND execution_id = ? AND decision = 'allowed' ORDER BY seq LIMIT 1",
  ).get(row.request_id, row.id) as { entry: string } | undefined;
  let first: Partial<AuditRecord> = {};
  try {
    if (allowed) first = JSON.parse(allowed.entry) as Partial<AuditRecord>;
  } catch {
    // An entry changed outside dvm (verify names it): the execution's own columns stand in.
  }
  return {
    at,
    actor: first.actor ?? row.principal,
    ...(first.via ? { via: first.via } : {}),
    principal: row.principal,
    action: row.action,
    version: row.version,
    decision: 'failed',
    ...(row.env !== null ? { env: row.env } : {}),
    ...(first.target !== undefined ? { target: first.target } : {}),
    ...(row.request_id ? { requestId: row.request_id } : {}),
    executionId: row.id,
    ...(first.params !== undefined ? { params: first.params } : {}),
    reasons: [`the process running it (pid ${row.pid}) died before it ended: what it did is unknown`],
    error: { code: 'DVM_EXECUTION_INTERRUPTED', message: String(error.message) },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Executions of actions: persisted records plus an in-memory event stream per live execution for SSE. */
export class Executions {
  readonly #db: DatabaseSync;
  readonly #writer: GroupCommitter;
  readonly #audit: Pick<AuditSink, 'appendIn'> | undefined;
  // The logs of executions other processes run that this one's readers follow, by id.
  readonly #polledLogs = new Map<string, EventLog>();
  readonly #live = new Map<string, Live>();
  // Finished executions still in #live, oldest first, with when they finished (performance.now()).
  readonly #finished = new Map<string, number>();
  #unsaved: [string, ExecutionEvent][] = [];

  /**
   * Executions in `db`, written through `writer`; `audit` takes the `failed` entry of an execution found interrupted
   * (its process died), in the transaction that marks it.
   */
  constructor(db: DatabaseSync, writer: GroupCommitter, audit?: Pick<AuditSink, 'appendIn'>) {
    this.#db = db;
    this.#writer = writer;
    this.#audit = audit;
  }

  /**
   * A new running execution: its record, and `persist(db)` that inserts it (call it inside a write transaction,
   * e.g. together with the idempotency claim), and `open()` that starts its event stream once persisted.
   */
  prepare(record: Omit<ExecutionRecord, 'status' | 'created_at'>): {
    record: ExecutionRecord;
    persist: (db: DatabaseSync) => void;
    open: () => void;
  } {
    const full: ExecutionRecord = { ...record, status: 'running', created_at: new Date().toISOString() };
    const persist = (db: DatabaseSync) => {
      RUNNING_IN_THIS_PROCESS.add(full.id);
      statement(
        db,
        `INSERT INTO executions (id, request_id, principal, action, version, env, target, status, pid, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      ).run(
        full.id,
        full.request_id ?? null,
        full.principal,
        full.action,
        full.version,
        full.env ?? null,
        full.target ? JSON.stringify(full.target) : null,
        process.pid,
        full.created_at,
      );
    };
    const open = () => {
      this.#live.set(full.id, { record: full, events: [], listeners: new Set(), ended: false });
      this.emit(full.id, 'started', { action: full.action, version: full.version }, full.created_at);
    };
    return { record: full, persist, open };
  }

  /** Records a new running execution durably and opens its event stream. */
  async create(record: Omit<ExecutionRecord, 'status' | 'created_at'>): Promise<ExecutionRecord> {
    const prepared = this.prepare(record);
    await this.#writer.write(prepared.persist);
    prepared.open();
    return prepared.record;
  }

  /** Appends an event to a live execution and hands it to its subscribers (persisted in the background). */
  emit(
    id: string,
    type: ExecutionEvent['type'],
    data: Record<string, unknown>,
    at?: string,
    eventId?: number,
  ): void {
    const live = this.#live.get(id);
    if (live?.record.status !== 'running') return;
    const event: ExecutionEvent = {
      id: eventId ?? live.events.length + 1,
      type,
      at: at ?? new Date().toISOString(),
      data,
    };
    live.events.push(event);
    for (const listener of live.listeners) listener(event);
    // started, completed and failed are rebuilt from the execution record on replay: only the rest is stored.
    if (LIFECYCLE.has(type)) return;
    // Events of one tick are persisted by one write (with the other writes of the next group commit).
    this.#unsaved.push([id, event]);
    if (this.#unsaved.length === 1) {
      // Taken once: the group committer may run this work again after a rollback.
      let batch: [string, ExecutionEvent][] | undefined;
      this.#writer
        .write((db) => {
          if (!batch) {
            batch = this.#unsaved;
            this.#unsaved = [];
          }
          const insert = statement(
            db,
            'INSERT INTO execution_events (execution_id, seq, event) VALUES (?, ?, ?)',
          );
          for (const [executionId, e] of batch) insert.run(executionId, e.id, JSON.stringify(e));
        })
        .catch(() => {});
    }
  }

  /**
   * Ends an execution: its durable final record (inserted whole when `unsaved`: an execution opened without
   * `persist`, recorded only once it ended), with `alsoIn`'s writes in the same write — all of them commit, or none —
   * then its last event. When that write fails, its stream ends `failed` with DVM_EXECUTION_INTERRUPTED (the action
   * ran, its end is not recorded) and the write's error is thrown. Its stream ends either way.
   */
  async finish(
    id: string,
    outcome: { status: 'succeeded'; result: unknown } | { status: 'failed'; error: Record<string, unknown> },
    options: { unsaved?: boolean; alsoIn?: (db: DatabaseSync) => void } = {},
  ): Promise<ExecutionRecord> {
    const live = this.#live.get(id);
    if (!live) throw new DvmError('DVM_INTERNAL', `execution ${id} is not running here`);
    const finishedAt = new Date().toISOString();
    const record: ExecutionRecord = {
      ...live.record,
      status: outcome.status,
      ...(outcome.status === 'succeeded' ? { result: outcome.result } : { error: outcome.error }),
      finished_at: finishedAt,
    };
    const result = outcome.status === 'succeeded' ? JSON.stringify(outcome.result ?? null) : null;
    const error = outcome.status === 'failed' ? JSON.stringify(outcome.error) : null;
    try {
      await this.#writer.write((db) => {
        this.#saveEnd(
          db,
          id,
          record,
          { status: outcome.status, result, error, finishedAt },
          options.unsaved === true,
        );
        options.alsoIn?.(db);
      });
      // Streams hear of the end once it is durable, never of one that rolled back.
      this.emit(
        id,
        outcome.status === 'succeeded' ? 'completed' : 'failed',
        outcome.status === 'succeeded' ? { result: outcome.result } : { error: outcome.error },
        finishedAt,
      );
      live.record = record;
    } catch (failure) {
      const unrecorded = unrecordedError(id, failure);
      // The id an interrupted execution's end has on replay too, so a resume from it sends nothing twice.
      this.emit(id, 'failed', { error: unrecorded }, finishedAt, INTERRUPTED_EVENT_ID);
      live.record = { ...live.record, status: 'interrupted', error: unrecorded, finished_at: finishedAt };
      throw failure;
    } finally {
      RUNNING_IN_THIS_PROCESS.delete(id);
      live.ended = true;
      for (const listener of live.listeners) listener(null);
      live.listeners.clear();
      this.#retire(id);
    }
    return live.record;
  }

  /**
   * Records, in a write of its own, that a claimed execution's end could not be recorded: it reads `interrupted` and
   * its request id answers that (500 DVM_EXECUTION_INTERRUPTED), so a repeat neither waits for ever nor runs it again.
   */
  async markUnrecorded(
    id: string,
    principal: string,
    requestId: string | undefined,
    failure: unknown,
  ): Promise<void> {
    const error = JSON.stringify(unrecordedError(id, failure));
    await this.#writer.write((db) => {
      statement(
        db,
        "UPDATE executions SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND status = 'running'",
      ).run(error, new Date().toISOString(), id);
      if (requestId)
        statement(
          db,
          'UPDATE idempotency SET status = 500, response = ? WHERE principal = ? AND request_id = ? AND status IS NULL',
        ).run(error, principal, requestId);
    });
  }

  // The durable end of an execution: its whole record when it was never saved, else its status and outcome.
  #saveEnd(
    db: DatabaseSync,
    id: string,
    record: ExecutionRecord,
    end: { status: string; result: string | null; error: string | null; finishedAt: string },
    unsaved: boolean,
  ): void {
    if (!unsaved) {
      statement(
        db,
        'UPDATE executions SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ?',
      ).run(end.status, end.result, end.error, end.finishedAt, id);
      return;
    }
    statement(
      db,
      `INSERT INTO executions (id, request_id, principal, action, version, env, target, status, result, error,
         created_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      record.request_id ?? null,
      record.principal,
      record.action,
      record.version,
      record.env ?? null,
      record.target ? JSON.stringify(record.target) : null,
      end.status,
      end.result,
      end.error,
      record.created_at,
      end.finishedAt,
    );
  }

  // Keeps a finished execution in memory for late subscribers, dropping the oldest past the count or age limit.
  #retire(id: string): void {
    const now = performance.now();
    this.#finished.set(id, now);
    for (const [oldest, finishedAt] of this.#finished) {
      if (this.#finished.size <= KEEP_FINISHED_MAX && now - finishedAt < KEEP_FINISHED_MS) break;
      this.#finished.delete(oldest);
      this.#live.delete(oldest);
    }
  }

  /** The execution with this id; DVM_EXECUTION_NOT_FOUND when there is none. */
  get(id: string): ExecutionRecord {
    const live = this.#live.get(id);
    if (live) return live.record;
    const row = statement(this.#db, 'SELECT * FROM executions WHERE id = ?').get(id) as Row | undefined;
    if (!row) {
      throw new DvmError('DVM_EXECUTION_NOT_FOUND', `no execution has the id "${id}"`, {
        fix: 'Use the execution_id an execute request answered with.',
      });
    }
    // Stored as running by a process that died (a killed `dvm action run`): it is marked interrupted first.
    if (row.status === 'running' && this.runner(id) === undefined) return this.get(id);
    return recordOf(row);
  }

  /**
   * The events of an execution to read at the reader's pace: a live one's in-memory list (it grows until the end is
   * durable), else the stored ones, ended. DVM_EXECUTION_NOT_FOUND when there is none.
   */
  eventLog(id: string): EventLog {
    const live = this.#live.get(id);
    if (!live) {
      const record = this.get(id);
      if (record.status === 'running') return this.#polled(record);
      const events = this.#stored(record);
      return { events, ended: () => true, watch: () => () => {} };
    }
    return {
      events: live.events,
      ended: () => live.ended,
      watch(onChange) {
        if (live.ended) return () => {};
        const listener = () => onChange();
        live.listeners.add(listener);
        return () => live.listeners.delete(listener);
      },
    };
  }

  /**
   * Replays the events after `afterId`, then streams new ones until the execution ends (`onEnd`). Returns an
   * unsubscribe function.
   */
  subscribe(
    id: string,
    afterId: number,
    onEvent: (event: ExecutionEvent) => void,
    onEnd: () => void,
  ): () => void {
    const log = this.eventLog(id);
    let next = indexAfter(log.events, afterId);
    let stop = () => {};
    const deliver = () => {
      while (next < log.events.length) onEvent(log.events[next++]);
      if (log.ended()) {
        stop();
        onEnd();
      }
    };
    stop = log.watch(deliver);
    deliver();
    return stop;
  }

  // The log of an execution another process runs, read from the store while it is followed (one per execution,
  // shared by its followers), until it ends there or its process dies.
  #polled(record: ExecutionRecord): EventLog {
    const known = this.#polledLogs.get(record.id);
    if (known) return known;
    const log = polledEventLog(
      this.#stored(record),
      (lastId) => {
        const now = this.get(record.id);
        if (now.status !== 'running')
          return { events: this.#stored(now).filter((e) => e.id > lastId), ended: true };
        const rows = statement(
          this.#db,
          'SELECT event FROM execution_events WHERE execution_id = ? AND seq > ? ORDER BY seq',
        ).all(record.id, lastId) as { event: string }[];
        return { events: rows.map((row) => JSON.parse(row.event) as ExecutionEvent), ended: false };
      },
      // Only this log's own entry: another follower's may have taken its place meanwhile.
      () => {
        if (this.#polledLogs.get(record.id) === log) this.#polledLogs.delete(record.id);
      },
    );
    // Shared from its first watcher on (until no one watches): a log never watched (a refused stream) is not kept.
    return {
      events: log.events,
      ended: log.ended,
      watch: (onChange) => {
        if (!log.ended()) this.#polledLogs.set(record.id, log);
        return log.watch(onChange);
      },
    };
  }

  // The events of an execution that is not live here: started and the final event from its record, the rest from
  // the store.
  #stored(record: ExecutionRecord): ExecutionEvent[] {
    const rows = statement(
      this.#db,
      'SELECT event FROM execution_events WHERE execution_id = ? ORDER BY seq',
    ).all(record.id) as { event: string }[];
    const events: ExecutionEvent[] = [
      {
        id: 1,
        type: 'started',
        at: record.created_at,
        data: { action: record.action, version: record.version },
      },
      ...rows.map((row) => JSON.parse(row.event) as ExecutionEvent),
    ];
    const last = events[events.length - 1].id;
    if (record.status === 'succeeded') {
      events.push({
        id: last + 1,
        type: 'completed',
        at: record.finished_at ?? '',
        data: { result: record.result },
      });
    } else if (record.status !== 'running') {
      events.push({
        id: record.status === 'interrupted' ? INTERRUPTED_EVENT_ID : last + 1,
        type: 'failed',
        at: record.finished_at ?? '',
        data: { error: record.error },
      });
    }
    return events;
  }

  /** A page of executions, newest first, with those this process runs but has not stored yet (queryExecutions). */
  list(filters: CheckedExecutionFilters): ExecutionPage {
    const page = queryExecutions(this.#db, filters, this.running());
    // Stored as running by a process that died: marked interrupted first (runner() does), then listed again.
    const dead = page.items.filter(
      (e) => e.status === 'running' && !this.#live.has(e.id) && this.runner(e.id) === undefined,
    );
    return dead.length > 0 ? queryExecutions(this.#db, filters, this.running()) : page;
  }

  /**
   * The pid of the process running this execution: this one's while it runs here, another live process's (a
   * `dvm action run`, another `dvm serve`), or undefined once it ended. A running record whose process died is
   * marked interrupted first (as at the agent's start), so it then reads as ended.
   */
  runner(id: string): number | undefined {
    const live = this.#live.get(id);
    // Live here: running, or ended (its end may still be committing).
    if (live) return live.record.status === 'running' ? process.pid : undefined;
    const row = statement(this.#db, 'SELECT status, pid FROM executions WHERE id = ?').get(id) as
      | Pick<Row, 'status' | 'pid'>
      | undefined;
    if (row?.status !== 'running') return undefined;
    // This process's pid without a live record here: another agent of this process runs it (a pipeline task's).
    if (row.pid === process.pid || (row.pid !== null && alive(row.pid))) return row.pid;
    this.reapInterrupted(id);
    return undefined;
  }

  /** Executions whose records and events this process holds in memory, running or recently finished (for tests and metrics). */
  get inMemory(): number {
    return this.#live.size;
  }

  /** Live executions of this process (for metrics and shutdown). */
  running(): ExecutionRecord[] {
    return [...this.#live.values()].filter((l) => l.record.status === 'running').map((l) => l.record);
  }

  /**
   * Marks executions whose process died as `interrupted` and gives their idempotency keys that answer, so a
   * retry of the same request_id reports the interruption instead of running the action a second time. With
   * `only`, just that execution, and only when its process is another one (this process may run executions of
   * another agent it opened, a pipeline task's).
   */
  reapInterrupted(only?: string): string[] {
    const select =
      "SELECT id, request_id, principal, action, version, env, target, pid FROM executions WHERE status = 'running'";
    const rows = (
      only === undefined
        ? statement(this.#db, select).all()
        : statement(this.#db, `${select} AND id = ? AND (pid IS NULL OR pid != ?)`).all(only, process.pid)
    ) as (Pick<Row, 'id' | 'request_id' | 'principal' | 'action' | 'version' | 'env' | 'target'> & {
      pid: number | null;
    })[];
    const reaped: string[] = [];
    for (const row of rows) {
      if (this.#live.has(row.id)) continue;
      // Running here (another agent of this process), or in another process that is alive.
      if (row.pid === process.pid ? RUNNING_IN_THIS_PROCESS.has(row.id) : row.pid !== null && alive(row.pid))
        continue;
      const error = new DvmError(
        'DVM_EXECUTION_INTERRUPTED',
        `execution ${row.id} was interrupted: the process running it (pid ${row.pid}) died`,
        {
          fix: 'Check the target by hand; to run the action again, send a new request_id.',
          details: { execution_id: row.id },
        },
      ).toJSON();
      const now = new Date().toISOString();
      this.#writer.writeNow((db) => {
        const marked = statement(
          db,
          "UPDATE executions SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND status = 'running'",
        ).run(JSON.stringify(error), now, row.id);
        // Another process may have marked it first: its end is audited once.
        if (Number(marked.changes) !== 1) return;
        if (row.request_id) {
          statement(
            db,
            'UPDATE idempotency SET status = 500, response = ? WHERE principal = ? AND request_id = ? AND status IS NULL',
          ).run(JSON.stringify(error), row.principal, row.request_id);
        }
        this.#audit?.appendIn(db, interruptedEntry(db, row, error, now));
      });
      reaped.push(row.id);
    }
    if (only === undefined) this.#answerOrphanKeys();
    return reaped;
  }

  // Request ids left without an answer although their execution ended (or never got recorded): answer them from
  // the execution record, so a retry never waits forever and never runs the action again.
  #answerOrphanKeys(): void {
    const rows = statement(
      this.#db,
      `SELECT i.principal, i.request_id, i.execution_id, e.status, e.action, e.version, e.result, e.error
       FROM idempotency i LEFT JOIN executions e ON e.id = i.execution_id
       WHERE i.status IS NULL AND (e.id IS NULL OR e.status != 'running')`,
    ).all() as {
      principal: string;
      request_id: string;
      execution_id: string | null;
      status: ExecutionStatus | null;
      action: string | null;
      version: string | null;
      result: string | null;
      error: string | null;
    }[];
    for (const row of rows) {
      if (row.execution_id && this.#live.has(row.execution_id)) continue;
      let status: number;
      let body: Record<string, unknown>;
      if (row.status === 'succeeded') {
        status = 200;
        body = {
          execution_id: row.execution_id,
          request_id: row.request_id,
          status: 'succeeded',
          action: row.action,
          version: row.version,
          result: row.result ? JSON.parse(row.result) : null,
        };
      } else if (row.status && row.error) {
        body = JSON.parse(row.error) as Record<string, unknown>;
        status = ERROR_CODES[body.code as ErrorCode]?.http ?? 500;
      } else {
        status = 500;
        body = new DvmError(
          'DVM_EXECUTION_INTERRUPTED',
          `request ${row.request_id} was interrupted before it ran`,
          {
            fix: 'Check the target by hand; to run the action again, send a new request_id.',
          },
        ).toJSON();
      }
      statement(
        this.#db,
        'UPDATE idempotency SET status = ?, response = ? WHERE principal = ? AND request_id = ? AND status IS NULL',
      ).run(status, JSON.stringify(body), row.principal, row.request_id);
    }
  }
}

/** What an execution whose end could not be recorded answers: it ran, so it is never run again for its request id. */
export function unrecordedError(id: string, failure: unknown): Record<string, unknown> {
  return new DvmError(
    'DVM_EXECUTION_INTERRUPTED',
    `execution ${id} ran, but its end could not be recorded: ${(failure as Error)?.message ?? String(failure)}`,
    {
      fix: 'Check the target by hand (the action ran); to run it again, send a new request_id.',
      details: { execution_id: id },
    },
  ).toJSON();
}
