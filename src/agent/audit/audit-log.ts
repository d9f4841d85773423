import { createHash } from 'node:crypto';
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { DvmError } from '../../errors/dvm-error.ts';
import { stableStringify } from '../../service/stable-json.ts';
import { LOCAL_PRINCIPAL } from '../auth/principal.ts';
import type { AuditRecord } from '../execute/types.ts';
import type { Redactor } from '../redact.ts';
import type { GroupCommitter } from '../store/group-commit.ts';
import { statement } from '../store/statements.ts';
import { type AuditFilters, checkAuditFilters, MAX_AUDIT_PAGE } from './audit-query.ts';

// Anchors by seq. Two hashes kept for one entry cannot both hold: the log was rewritten between those anchors, and
// the entry fails whichever it matches.
function anchorsBySeq(anchors: readonly AuditAnchor[]): Map<number, Set<string>> {
  const bySeq = new Map<number, Set<string>>();
  for (const { seq, hash } of anchors) {
    const hashes = bySeq.get(seq) ?? new Set<string>();
    hashes.add(hash);
    bySeq.set(seq, hashes);
  }
  return bySeq;
}

/** The hash before the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** An entry as stored and listed: the record plus its place in the chain. */
export type AuditEntry = AuditRecord & {
  seq: number;
  hash: string;
  prevHash: string;
  /** Set when the stored content is no audit entry (changed outside dvm): the entry is rebuilt from its columns. */
  damaged?: string;
};

/** A page of audit entries: oldest first, the cursor of the next page, and the seq of the log's last entry. */
export interface AuditPage {
  items: AuditEntry[];
  next?: string;
  head: number;
}

/** A chain position kept outside the database (an earlier verify's head): entry `seq` must still hash to `hash`. */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

/** What verify() found; `head` is the chain head (last entry appended) to keep elsewhere as an anchor. */
export interface VerifyReport {
  ok: boolean;
  entries: number;
  brokenAt?: number;
  reason?: string;
  head?: { seq: number; hash: string };
  /** The anchors given that the chain matched (all of them when ok). */
  anchored?: number;
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: string | null;
  version: string | null;
  decision: string;
  env: string | null;
  target: string | null;
  request_id: string | null;
  execution_id: string | null;
  entry: string;
  prev_hash: string;
  hash: string;
}

// An audit row as an entry. Content that is no entry (changed outside dvm) does not stop a listing or an export —
// what an investigation needs most then: the entry is rebuilt from its columns and says it is damaged.
function entryOfRow(row: Row): AuditEntry {
  const chain = { seq: row.seq, hash: row.hash, prevHash: row.prev_hash };
  let content: unknown;
  try {
    content = JSON.parse(row.entry);
  } catch {}
  const record = content as Partial<AuditRecord> | null;
  if (
    record &&
    typeof record === 'object' &&
    !Array.isArray(record) &&
    typeof record.at === 'string' &&
    typeof record.actor === 'string' &&
    typeof record.decision === 'string'
  )
    return { ...(record as AuditRecord), ...chain };
  return {
    at: row.at,
    actor: row.actor,
    decision: row.decision as AuditRecord['decision'],
    ...(row.action ? { action: row.action } : {}),
    ...(row.version ? { version: row.version } : {}),
    ...(row.env ? { env: row.env } : {}),
    ...(row.target ? { target: row.target } : {}),
    ...(row.request_id ? { requestId: row.request_id } : {}),
    ...(row.execution_id ? { executionId: row.execution_id } : {}),
    ...chain,
    damaged:
      'its stored content is not an audit entry (changed outside dvm): shown from its columns; run `dvm audit verify`',
  };
}

// A hashed field as its column holds it: SQLite keeps text as UTF-8, where a lone surrogate becomes U+FFFD (the
// hashed JSON escapes it exactly), so such an entry's column is compared with that replacement, not flagged changed.
function asStored(value: string | undefined): string | null {
  return value === undefined ? null : value.toWellFormed();
}

function hashOf(prevHash: string, canonicalEntry: string): string {
  return createHash('sha256').update(prevHash).update(canonicalEntry).digest('hex');
}

/**
 * The audit log: every decision of execute(), durable before the answer, in one SHA-256 hash chain across
 * processes (the previous hash is read inside the write transaction), redacted before it is written.
 */
export class AuditLog {
  readonly #db: DatabaseSync;
  readonly #writer: GroupCommitter;
  #redactor: Redactor | undefined;
  // The chain's tail as of the current write transaction (re-read in every new one: other processes append too).
  #tail: { transaction: number; seq: number; hash: string } | undefined;
  readonly #committed = new Set<(entry: AuditEntry) => void>();

  constructor(db: DatabaseSync, options: { writer: GroupCommitter; redactor?: Redactor }) {
    this.#db = db;
    this.#writer = options.writer;
    this.#redactor = options.redactor;
  }

  /** Redacts the entries appended from now on with `redactor` (a reloaded config.yaml's `redact.patterns`). */
  useRedactor(redactor: Redactor): void {
    this.#redactor = redactor;
  }

  /** Appends an entry; resolves with its seq and hash once it is committed (grouped with concurrent writes). */
  append(record: AuditRecord): Promise<{ seq: number; hash: string }> {
    return this.#writer.write((db) => this.appendIn(db, record));
  }

  /**
   * Appends an entry inside a write transaction of the group committer that is running now (so it commits, or
   * rolls back, together with the other writes of that closure).
   */
  appendIn(db: DatabaseSync, record: AuditRecord): { seq: number; hash: string } {
    const clean = this.#redactor ? redactedBut(this.#redactor, record) : record;
    const transaction = this.#writer.transaction;
    // The chain continues from its head, not from the last row: entries deleted from the end stay a visible gap.
    const last =
      this.#tail?.transaction === transaction
        ? this.#tail
        : (statement(db, 'SELECT seq, hash FROM audit_head WHERE id = 1').get() as
            | { seq: number; hash: string }
            | undefined);
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    const entry = stableStringify({ ...clean, seq });
    const hash = hashOf(prevHash, entry);
    statement(
      db,
      `INSERT INTO audit (seq, at, actor, action, version, decision, env, target, request_id, execution_id, entry, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      seq,
      clean.at,
      clean.actor,
      clean.action ?? null,
      clean.version ?? null,
      clean.decision,
      clean.env ?? null,
      clean.target ?? null,
      clean.requestId ?? null,
      clean.executionId ?? null,
      entry,
      prevHash,
      hash,
    );
    statement(db, 'UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(seq, hash);
    this.#tail = { transaction, seq, hash };
    if (this.#committed.size > 0) {
      const appended = { ...clean, seq, hash, prevHash };
      this.#writer.afterCommit(() => {
        for (const listener of this.#committed) listener(appended);
      });
    }
    return { seq, hash };
  }

  /**
   * Calls `listener` with each entry this process appends, redacted, once it is committed (never for one rolled
   * back); returns the function that stops it.
   */
  onCommitted(listener: (entry: AuditEntry) => void): () => void {
    this.#committed.add(listener);
    return () => this.#committed.delete(listener);
  }

  /**
   * Entries matching the filters, oldest first, one page at a time (`next` is the cursor of the next page); `head`
   * is the seq of the log's last entry (0 when empty), where a follower starts that wants only new entries.
   */
  query(filters: AuditFilters = {}, now = new Date()): AuditPage {
    const checked = checkAuditFilters(filters, now);
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    for (const [column, value] of checked.equal) {
      where.push(`${column} = ?`);
      params.push(value);
    }
    // An owner's entries are its tokens' (names are never reused: an actor is one token) and, for `local`, the
    // local CLI user's; a token made without an owner owns itself.
    if (checked.owner !== undefined) {
      where.push(
        '(actor IN (SELECT name FROM tokens WHERE COALESCE(owner, name) = ?) OR (actor = ? AND ? = ?))',
      );
      params.push(checked.owner, LOCAL_PRINCIPAL.name, checked.owner, LOCAL_PRINCIPAL.owner);
    }
    // Each pair is one whole element of the target's comma-separated list (instr: exact case, no wildcards).
    for (const pair of checked.targetPairs) {
      where.push(`instr(',' || target || ',', ?) > 0`);
      params.push(`,${pair},`);
    }
    if (checked.since) {
      where.push('at >= ?');
      params.push(checked.since);
    }
    if (checked.until) {
      where.push('at <= ?');
      params.push(checked.until);
    }
    if (checked.after !== undefined) {
      where.push('seq > ?');
      params.push(checked.after);
    }
    const { limit, tail } = checked;
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const head = Number(
      (statement(this.#db, 'SELECT seq FROM audit_head WHERE id = 1').get() as { seq: number } | undefined)
        ?.seq ?? 0,
    );
    if (tail !== undefined) {
      // The newest `tail` entries, read from the end, then put oldest first: no next page (older ones are `until`).
      const sql = `SELECT * FROM (SELECT * FROM audit ${filter} ORDER BY seq DESC LIMIT ?) ORDER BY seq`;
      const rows = statement(this.#db, sql).all(...params, tail) as unknown as Row[];
      return { items: rows.map(entryOfRow), head };
    }
    const sql = `SELECT * FROM audit ${filter} ORDER BY seq LIMIT ?`;
    const rows = statement(this.#db, sql).all(...params, limit + 1) as unknown as Row[];
    const page = rows.slice(0, limit);
    const items = page.map(entryOfRow);
    return rows.length > limit ? { items, next: String(page[page.length - 1].seq), head } : { items, head };
  }

  /** Every matching entry (all pages, from `after` on when given) as JSON lines. */
  *exportJsonl({ limit, after: from, ...filters }: AuditFilters = {}): Generator<string> {
    if (filters.tail !== undefined)
      throw new DvmError('DVM_QUERY_INVALID', 'an export takes every matching entry: tail does not apply', {
        path: 'tail',
        fix: 'Cap the export with limit, or start it with after or since.',
      });
    // `limit` caps the whole export (not a page): any positive integer.
    const most = limit === undefined ? Number.POSITIVE_INFINITY : Number(limit);
    if (!Number.isSafeInteger(most) && most !== Number.POSITIVE_INFINITY)
      throw new DvmError('DVM_QUERY_INVALID', `limit "${limit}" is not a whole number`, {
        path: 'limit',
        fix: 'Pass a positive whole number of entries, e.g. --limit 1000 (leave it out to export every one).',
      });
    if (most < 1)
      throw new DvmError('DVM_QUERY_INVALID', `limit ${most} exports nothing`, {
        path: 'limit',
        fix: 'Pass a positive whole number of entries (leave it out to export every one).',
      });
    let after: string | number | undefined = from;
    let written = 0;
    do {
      const page = this.query({ ...filters, limit: MAX_AUDIT_PAGE, after });
      for (const item of page.items) {
        if (written++ >= most) return;
        yield `${JSON.stringify(item)}\n`;
      }
      after = page.next;
    } while (after);
  }

  /**
   * Recomputes the chain and compares its end with the chain head: an edited (content or any filterable column),
   * removed, inserted or reordered entry breaks it at that seq, and entries removed from the end are reported as
   * missing. A rewrite of the whole database with recomputed hashes and head is not detectable from inside it:
   * `anchors` (heads kept elsewhere by earlier verifies) catch it, as each must still be an entry of the chain.
   */
  verify(anchors: readonly AuditAnchor[] = []): VerifyReport {
    // One read transaction: the entries and the chain head come from one snapshot while an agent goes on appending
    // (read apart, a head newer than the entries read looked like entries cut off the end).
    const own = !this.#db.isTransaction;
    if (own) this.#db.exec('BEGIN');
    try {
      return this.#verify(anchors);
    } finally {
      if (own) this.#db.exec('COMMIT');
    }
  }

  #verify(anchors: readonly AuditAnchor[]): VerifyReport {
    const expected = anchorsBySeq(anchors);
    // An empty log's head (entry 0, the hash before the first entry) holds for every chain.
    let anchored = expected.get(0)?.size ?? 0;
    expected.delete(0);
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let entries = 0;
    const rows = statement(this.#db, 'SELECT * FROM audit ORDER BY seq').iterate() as Iterable<Row>;
    for (const row of rows) {
      const fail = (reason: string): VerifyReport => ({
        ok: false,
        entries,
        brokenAt: row.seq,
        reason,
        anchored,
      });
      if (row.seq !== expectedSeq)
        return fail(`expected entry ${expectedSeq} here, found ${row.seq} (an entry was removed)`);
      if (row.prev_hash !== prevHash) return fail('its previous hash does not match the entry before it');
      if (hashOf(prevHash, row.entry) !== row.hash)
        return fail('its content does not match its hash (it was changed)');
      let parsed: AuditRecord & { seq?: number };
      try {
        parsed = JSON.parse(row.entry);
      } catch {
        return fail('its content is not JSON');
      }
      if (
        parsed.seq !== row.seq ||
        asStored(parsed.at) !== row.at ||
        asStored(parsed.actor) !== row.actor ||
        asStored(parsed.decision) !== row.decision ||
        asStored(parsed.action) !== row.action ||
        asStored(parsed.version) !== row.version ||
        asStored(parsed.env) !== row.env ||
        asStored(parsed.target) !== row.target ||
        asStored(parsed.requestId) !== row.request_id ||
        asStored(parsed.executionId) !== row.execution_id
      ) {
        return fail('its indexed columns differ from its hashed content (they were changed)');
      }
      const kept = expected.get(row.seq);
      if (kept !== undefined) {
        const other = [...kept].find((hash) => hash !== row.hash);
        if (other !== undefined)
          return fail(
            `its hash is ${row.hash}, not the anchor's ${other}: the log up to this entry was rewritten since that anchor was kept`,
          );
        anchored++;
      }
      prevHash = row.hash;
      expectedSeq++;
      entries++;
    }
    const report = this.#checkHead(entries, prevHash);
    if (!report.ok) return { ...report, anchored };
    const beyond = [...expected.keys()].filter((seq) => seq > entries).sort((a, b) => a - b)[0];
    if (beyond !== undefined)
      return {
        ...report,
        ok: false,
        brokenAt: entries + 1,
        reason: `an anchor names entry ${beyond}, but the chain ends at entry ${entries}: entries kept at that anchor are gone`,
        anchored,
      };
    return { ...report, anchored };
  }

  // The chain's end must be the head recorded with the last append: fewer entries mean the end was cut off.
  #checkHead(entries: number, lastHash: string): VerifyReport {
    const head = statement(this.#db, 'SELECT seq, hash FROM audit_head WHERE id = 1').get() as
      | { seq: number; hash: string }
      | undefined;
    if (!head) return { ok: false, entries, brokenAt: entries + 1, reason: 'the chain head is missing' };
    const fail = (reason: string): VerifyReport => ({
      ok: false,
      entries,
      brokenAt: entries + 1,
      reason,
      head,
    });
    if (head.seq > entries) {
      const missing = head.seq - entries;
      return fail(
        `${missing} ${missing === 1 ? 'entry is' : 'entries are'} missing at the end (the chain head is entry ${head.seq}; the log was truncated)`,
      );
    }
    if (head.seq < entries)
      return {
        ...fail(`entries after the chain head (entry ${head.seq}) were added outside the audit log`),
        brokenAt: head.seq + 1,
      };
    if (head.hash !== lastHash)
      return {
        ...fail("the last entry's hash is not the chain head's (it was replaced)"),
        brokenAt: entries,
      };
    return { ok: true, entries, head };
  }

  /** Waits for queued entries to commit. */
  async close(): Promise<void> {
    await this.#writer.drain();
  }
}

// An entry with its secrets redacted, except the ids of the policies that decided: names an admin gave, which
// `redact.patterns` meant for params and targets must not turn into `no-[REDACTED]` (who denied it must stay known).
function redactedBut(redactor: Redactor, record: AuditRecord): AuditRecord {
  if (record.policyIds === undefined) return redactor.redact(record) as AuditRecord;
  const { policyIds, ...rest } = record;
  return { ...(redactor.redact(rest) as AuditRecord), policyIds };
}
