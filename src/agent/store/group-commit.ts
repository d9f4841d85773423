import type { DatabaseSync } from 'node:sqlite';
import { systemError } from '../../errors/system-errors.ts';
import { statement } from './statements.ts';

type Result = { ok: boolean; value: unknown };

// What a transaction attempt gives back: each write's result, and the after-commit hooks of the writes that held.
type Attempt = { results: Result[]; hooks: (() => void)[] };

interface Pending {
  work: (db: DatabaseSync) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups writes that arrive together into one durable transaction: each `write` resolves only after the
 * transaction holding it committed (WAL, synchronous=FULL), so a burst of N writes costs one fsync, not N.
 * A write that throws fails alone: the batch is rolled back and run again with a savepoint around each write
 * (so the others still commit). Work may therefore run twice; it must not depend on side effects of a run that
 * was rolled back (writers caching reads per `transaction` are fine: a retry is a new transaction).
 */
// A write the database refused for want of a disk (full, I/O error), not for what it wrote.
function isUnwritable(error: unknown): boolean {
  return systemError(error)?.code === 'DVM_STORE_UNAVAILABLE';
}

export class GroupCommitter {
  readonly #db: DatabaseSync;
  #queue: Pending[] = [];
  #scheduled = false;
  /** Transactions committed so far (for tests and metrics). */
  commits = 0;
  /** Writes committed so far. */
  writes = 0;
  /** Batches that had a failing write and were run again write by write (for tests and metrics). */
  retries = 0;
  /** Number of the transaction being written (or last written); writers may cache what they read inside it. */
  transaction = 0;
  /**
   * Set while the database cannot be written (disk full, I/O error): why, since when, and when a write last failed
   * (epoch ms); a commit with a write that succeeded clears it.
   */
  failure: { message: string; since: string; lastAt: number } | undefined;
  /** Told of every committed transaction: how long it took (seconds, the fsync included) and how many writes it held. */
  readonly commitListeners = new Set<(seconds: number, writes: number) => void>();
  // The after-commit hooks of the write running now (undefined outside a write).
  #hooks: (() => void)[] | undefined;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** The connection the writes go to (for reads outside a write). */
  get database(): DatabaseSync {
    return this.#db;
  }

  /** Queues `work` for the next group transaction and resolves with its result once that transaction committed. */
  write<T>(work: (db: DatabaseSync) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /**
   * Runs `hook` once the transaction holding the write that runs now has committed (its writes' promises resolved
   * just before); it is dropped when that write or its transaction rolls back. Only inside a write's work.
   */
  afterCommit(hook: () => void): void {
    if (!this.#hooks) throw new Error('afterCommit is only for the work of a write');
    this.#hooks.push(hook);
  }

  /**
   * Runs `work` at once in a transaction of its own and returns once it committed (for a caller that cannot wait for
   * the next group); throws what `work` threw, rolled back. Its after-commit hooks run before it returns.
   */
  writeNow<T>(work: (db: DatabaseSync) => T): T {
    const { results, hooks } = this.#transaction([{ work, resolve() {}, reject() {} }], true) as Attempt;
    const [result] = results;
    if (!result.ok) throw result.value;
    this.commits++;
    this.writes++;
    for (const hook of hooks) {
      try {
        hook();
      } catch {
        // A hook's failure is its own (it reports it): the write is committed.
      }
    }
    return result.value as T;
  }

  /** Resolves once every write queued so far has committed (or failed). */
  async drain(): Promise<void> {
    await this.write(() => undefined).catch(() => undefined);
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    let attempt: Attempt;
    const started = this.commitListeners.size > 0 ? performance.now() : 0;
    try {
      // Most batches have no failing write: no savepoints, which cost two statements per write.
      attempt = this.#transaction(batch, false) ?? this.#retry(batch);
    } catch (error) {
      this.#failed(error);
      for (const p of batch) p.reject(error);
      return;
    }
    const { results } = attempt;
    const unwritable = results.find((r) => !r.ok && isUnwritable(r.value));
    if (unwritable) this.#failed(unwritable.value);
    else if (results.some((r) => r.ok)) this.failure = undefined;
    this.commits++;
    this.writes += batch.length;
    if (started)
      for (const listener of this.commitListeners)
        listener((performance.now() - started) / 1000, batch.length);
    batch.forEach((p, i) => {
      const r = results[i];
      if (r.ok) p.resolve(r.value);
      else p.reject(r.value);
    });
    for (const hook of attempt.hooks) {
      try {
        hook();
      } catch {
        // A hook's failure is its own (it reports it): the writes are committed and answered.
      }
    }
  }

  #failed(error: unknown): void {
    if (!isUnwritable(error)) return;
    const now = new Date();
    this.failure = {
      message: (error as Error).message,
      since: this.failure?.since ?? now.toISOString(),
      lastAt: now.getTime(),
    };
  }

  #retry(batch: Pending[]): Attempt {
    this.retries++;
    return this.#transaction(batch, true) as Attempt;
  }

  // Runs the batch in one transaction. Without savepoints, the first failing write rolls everything back and
  // returns undefined; with them, a failing write is rolled back alone. Throws when the transaction itself fails.
  #transaction(batch: Pending[], savepoints: boolean): Attempt | undefined {
    statement(this.#db, 'BEGIN IMMEDIATE').run();
    this.transaction++;
    const results: Result[] = [];
    const hooks: (() => void)[] = [];
    try {
      const savepoint = savepoints ? statement(this.#db, 'SAVEPOINT one') : undefined;
      const release = savepoints ? statement(this.#db, 'RELEASE one') : undefined;
      for (const p of batch) {
        savepoint?.run();
        // A write that fails takes its hooks with it.
        const mark = hooks.length;
        this.#hooks = hooks;
        try {
          results.push({ ok: true, value: p.work(this.#db) });
          release?.run();
        } catch (error) {
          hooks.length = mark;
          if (!savepoints) {
            try {
              this.#db.exec('ROLLBACK');
            } catch {
              // SQLite already rolled back (some errors end the transaction themselves).
            }
            return undefined;
          }
          // Some errors (a full disk, an I/O error) end the whole transaction: then the batch fails with the
          // write's own error, not with the savepoint that went with the transaction.
          if (!this.#db.isTransaction) throw error;
          statement(this.#db, 'ROLLBACK TO one').run();
          release?.run();
          results.push({ ok: false, value: error });
        }
      }
      this.#hooks = undefined;
      statement(this.#db, 'COMMIT').run();
      return { results, hooks };
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {}
      throw error;
    } finally {
      this.#hooks = undefined;
    }
  }
}
