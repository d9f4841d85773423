import type { DatabaseSync } from 'node:sqlite';
import { statement } from './statements.ts';

interface Pending {
  work: (db: DatabaseSync) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups writes that arrive together into one durable transaction: each `write` resolves only after the
 * transaction holding it committed (WAL, synchronous=FULL), so a burst of N writes costs one fsync, not N.
 * A write that throws fails alone (its statements are rolled back to a savepoint); the others still commit.
 */
export class GroupCommitter {
  readonly #db: DatabaseSync;
  #queue: Pending[] = [];
  #scheduled = false;
  /** Transactions committed so far (for tests and metrics). */
  commits = 0;
  /** Writes committed so far. */
  writes = 0;
  /** Number of the transaction being written (or last written); writers may cache what they read inside it. */
  transaction = 0;

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

  /** Resolves once every write queued so far has committed (or failed). */
  async drain(): Promise<void> {
    await this.write(() => undefined).catch(() => undefined);
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      statement(this.#db, 'BEGIN IMMEDIATE').run();
      this.transaction++;
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    try {
      const savepoint = statement(this.#db, 'SAVEPOINT one');
      const release = statement(this.#db, 'RELEASE one');
      for (const p of batch) {
        savepoint.run();
        try {
          results.push({ ok: true, value: p.work(this.#db) });
          release.run();
        } catch (error) {
          statement(this.#db, 'ROLLBACK TO one').run();
          release.run();
          results.push({ ok: false, value: error });
        }
      }
      statement(this.#db, 'COMMIT').run();
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {}
      for (const p of batch) p.reject(error);
      return;
    }
    this.commits++;
    this.writes += batch.length;
    batch.forEach((p, i) => {
      const r = results[i];
      if (r.ok) p.resolve(r.value);
      else p.reject(r.value);
    });
  }
}
