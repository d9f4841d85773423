import type { DatabaseSync } from 'node:sqlite';
import { DvmError } from '../../errors/dvm-error.ts';
import type { GroupCommitter } from '../store/group-commit.ts';
import { statement } from '../store/statements.ts';

/** The answer stored for a request id: HTTP status and body. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/** What a claim found: a new key (run it), a finished one (answer it again), or one still running. */
export type Claim =
  | { state: 'new' }
  | { state: 'done'; response: StoredResponse }
  | { state: 'running'; executionId: string | null };

interface Row {
  payload_hash: string;
  execution_id: string | null;
  status: number | null;
  response: string | null;
}

const POLL_MS = 25;

function conflict(requestId: string, executionId: string | null): DvmError {
  return new DvmError(
    'DVM_IDEMPOTENCY_CONFLICT',
    `request_id "${requestId}" was already used with a different payload`,
    {
      fix: 'Use a new request_id for a different request; repeat a request_id only to retry the same request.',
      details: { request_id: requestId, execution_id: executionId },
    },
  );
}

/**
 * Idempotency keys (principal, request_id): the first request with a key runs, repeats get its answer (waiting
 * while it still runs), and the same key with another payload is DVM_IDEMPOTENCY_CONFLICT. Keys are claimed in a
 * durable commit before the action runs, so a key is never executed twice, not even across a crash.
 */
export class IdempotencyKeys {
  readonly #writer: GroupCommitter;
  // Requests of this process still running, by key: repeats wait on them without polling.
  readonly #inFlight = new Map<string, { payloadHash: string; promise: Promise<StoredResponse> }>();

  constructor(writer: GroupCommitter) {
    this.#writer = writer;
  }

  /**
   * Claims the key durably; throws DVM_IDEMPOTENCY_CONFLICT when it was used with another payload. `onNew` runs in
   * the same transaction when the key is new (to record the execution atomically with its key).
   */
  async claim(
    principal: string,
    requestId: string,
    payloadHash: string,
    executionId: string,
    onNew?: (db: DatabaseSync) => void,
  ): Promise<Claim> {
    const found = await this.#writer.write((db) => {
      const inserted = statement(
        db,
        `INSERT INTO idempotency (principal, request_id, payload_hash, execution_id, created_at)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(principal, requestId, payloadHash, executionId, new Date().toISOString());
      if (Number(inserted.changes) === 1) {
        onNew?.(db);
        return undefined;
      }
      return statement(
        db,
        'SELECT payload_hash, execution_id, status, response FROM idempotency WHERE principal = ? AND request_id = ?',
      ).get(principal, requestId) as unknown as Row;
    });
    if (!found) return { state: 'new' };
    if (found.payload_hash !== payloadHash) throw conflict(requestId, found.execution_id);
    if (found.status !== null && found.response !== null) {
      return { state: 'done', response: { status: found.status, body: JSON.parse(found.response) } };
    }
    return { state: 'running', executionId: found.execution_id };
  }

  /**
   * Looks a key up without claiming it: undefined when it is new; its answer (or that it is still running) when
   * it was used with this payload; DVM_IDEMPOTENCY_CONFLICT when it was used with another.
   */
  peek(
    principal: string,
    requestId: string,
    payloadHash: string,
  ): Exclude<Claim, { state: 'new' }> | undefined {
    const found = statement(
      this.#writer.database,
      'SELECT payload_hash, execution_id, status, response FROM idempotency WHERE principal = ? AND request_id = ?',
    ).get(principal, requestId) as Row | undefined;
    if (!found) return undefined;
    if (found.payload_hash !== payloadHash) throw conflict(requestId, found.execution_id);
    if (found.status !== null && found.response !== null) {
      return { state: 'done', response: { status: found.status, body: JSON.parse(found.response) } };
    }
    return { state: 'running', executionId: found.execution_id };
  }

  /**
   * Looks a key up without claiming it, first among the requests running in this process, then in the store:
   * undefined when it is new; its answer (or that it is still running) when it was used with this payload;
   * DVM_IDEMPOTENCY_CONFLICT when it was used with another.
   */
  lookup(
    principal: string,
    requestId: string,
    payloadHash: string,
  ): Exclude<Claim, { state: 'new' }> | undefined {
    const local = this.#inFlight.get(`${principal}\u0000${requestId}`);
    if (!local) return this.peek(principal, requestId, payloadHash);
    if (local.payloadHash !== payloadHash) throw conflict(requestId, null);
    return { state: 'running', executionId: null };
  }

  /** Marks a key as running in this process (claimed, or to be recorded when done), so repeats wait on `promise`. */
  track(principal: string, requestId: string, payloadHash: string, promise: Promise<StoredResponse>): void {
    const key = `${principal}\u0000${requestId}`;
    this.#inFlight.set(key, { payloadHash, promise });
    promise.finally(() => this.#inFlight.delete(key)).catch(() => {});
  }

  /**
   * Records a key together with its final answer, inside a running write transaction (a key that was not claimed
   * before it ran). A key another process recorded meanwhile is left as it is.
   */
  recordIn(
    db: DatabaseSync,
    principal: string,
    requestId: string,
    payloadHash: string,
    executionId: string,
    response: StoredResponse,
  ): void {
    statement(
      db,
      `INSERT INTO idempotency (principal, request_id, payload_hash, execution_id, created_at, status, response)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      principal,
      requestId,
      payloadHash,
      executionId,
      new Date().toISOString(),
      response.status,
      JSON.stringify(response.body),
    );
  }

  /** Stores the final answer of a claimed key, inside a running write transaction. */
  completeIn(db: DatabaseSync, principal: string, requestId: string, response: StoredResponse): void {
    statement(
      db,
      'UPDATE idempotency SET status = ?, response = ? WHERE principal = ? AND request_id = ?',
    ).run(response.status, JSON.stringify(response.body), principal, requestId);
  }

  /** Stores the final answer of a claimed key durably. */
  complete(principal: string, requestId: string, response: StoredResponse): Promise<void> {
    return this.#writer.write((db) => this.completeIn(db, principal, requestId, response));
  }

  /** Waits for the answer of a key that is running here or in another process (polls the store then). */
  async wait(principal: string, requestId: string, signal?: AbortSignal): Promise<StoredResponse> {
    const local = this.#inFlight.get(`${principal}\u0000${requestId}`);
    if (local) return local.promise;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const row = await this.#writer.write(
        (db) =>
          statement(
            db,
            'SELECT status, response FROM idempotency WHERE principal = ? AND request_id = ?',
          ).get(principal, requestId) as { status: number | null; response: string | null } | undefined,
      );
      if (row?.status != null && row.response !== null)
        return { status: row.status, body: JSON.parse(row.response) };
      const again = this.#inFlight.get(`${principal}\u0000${requestId}`);
      if (again) return again.promise;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
