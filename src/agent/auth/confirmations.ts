import { createHash, randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { DvmError } from '../../errors/dvm-error.ts';
import { statement } from '../store/statements.ts';
import { LOCAL_PRINCIPAL, type Principal } from './principal.ts';
import { TokenStore } from './tokens.ts';

/** How long a confirmation challenge stays valid by default: 5 minutes. */
export const DEFAULT_CONFIRMATION_TTL_MS = 5 * 60_000;

/** A confirmation challenge as the 428 answer carries it. */
export interface Challenge {
  confirmation_token: string;
  expires_at: string;
  /** Hash of (action, version, canonical params, target, principal) the token is bound to. */
  binding: string;
  /** `other-principal` when policy wants someone else to approve it first (no self-approval). */
  approval: 'self' | 'other-principal';
}

/** The request a confirmation is for, as an approver sees it (params already redacted). */
export interface ConfirmedRequest {
  action: string;
  version: string;
  params: unknown;
  target: Record<string, unknown>;
  request_id: string;
}

/** A pending confirmation as `POST /v1/confirmations/lookup` shows it: what would run, for whom, until when. */
export interface PendingConfirmation extends Partial<ConfirmedRequest> {
  requested_by: string;
  /** The person or team behind the requester (its token's owner): an approver must have another. */
  requester_owner: string;
  approval: Challenge['approval'];
  expires_at: string;
  approved_by?: string;
}

interface ConfirmationRow {
  id: string;
  binding: string;
  /** The requesting principal's identity; `principal_name` is its name. */
  principal: string;
  principal_name: string | null;
  /** The requesting principal's owner when the challenge was issued (null only in rows of no dvm release). */
  principal_owner: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  approved_by: string | null;
  /** The approver's identity (`token/<id>` or `local`). */
  approver_id: string | null;
  approval: string | null;
  /** JSON of the ConfirmedRequest (null for challenges issued before it was kept). */
  request: string | null;
}

const TOKEN = /^dvmc_[A-Za-z0-9_-]{43}$/;
// A confirmation's id (the SHA-256 of its token, which it does not reveal), or a unique prefix of 8 or more digits.
const ID = /^[0-9a-f]{8,64}$/;

/** Most pending approvals `awaitingApproval` lists. */
export const MAX_AWAITING = 100;

/** A confirmation waiting for a second principal, as `GET /v1/confirmations` lists it (its id, never its token). */
export type AwaitingApproval = PendingConfirmation & { id: string; created_at: string };

/** The id of a confirmation token (its SHA-256): how approvers name it without the token. */
export function confirmationIdOf(token: string): string {
  return idOf(token);
}

function idOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

// The fix for whoever reads the refusal: the requester (its run's token) or a second principal (a lookup or approval).
const FIXES: Record<'requester' | 'approver', Record<string, string>> = {
  requester: {},
  approver: {
    'self-approval':
      'Another principal approves it, with their own token (one of another owner): dvm action approve ID.',
    approved:
      'Nothing to do: it is approved; the requester sends the request again with its confirmation_token.',
    unknown:
      'Take the id from `dvm action approvals` (GET /v1/confirmations); used and expired ones are no longer there.',
    used: 'Nothing to approve: it was used. A new request from the requester makes a new challenge to approve.',
    expired:
      'Nothing to approve: it expired. The requester sends the request again for a new challenge to approve.',
    ambiguous: 'Give more digits of the id (`dvm action approvals` shows them).',
    'requester-invalid':
      'Nothing to approve: the requester needs a valid token to send the request again, which makes a new challenge.',
  },
};
const REQUESTER_FIX =
  'Send the request again without confirmation_token to get a fresh challenge, then confirm that exact request.';

function invalid(reason: string, message: string, reader: 'requester' | 'approver' = 'requester'): DvmError {
  return new DvmError('DVM_CONFIRMATION_INVALID', message, {
    fix: FIXES[reader][reason] ?? REQUESTER_FIX,
    details: { reason },
  });
}

/** Single-use, expiring confirmation tokens bound to one request of one principal; stored as hashes. */
export class Confirmations {
  readonly #db: DatabaseSync;
  readonly #now: () => Date;
  readonly #tokens: TokenStore;

  /** Confirmations in `db`; `tokens` decides whether an approver's token still counts (the agent's own store). */
  constructor(db: DatabaseSync, now: () => Date = () => new Date(), tokens = new TokenStore(db, now)) {
    this.#db = db;
    this.#now = now;
    this.#tokens = tokens;
  }

  /** Issues a challenge for the request whose binding hash is given. */
  issue(
    binding: string,
    principal: Principal,
    options: {
      ttlMs?: number;
      env?: string;
      approval?: Challenge['approval'];
      /** What the approver will be shown (redacted params). */
      request?: ConfirmedRequest;
    } = {},
  ): Challenge {
    const token = `dvmc_${randomBytes(32).toString('base64url')}`;
    const now = this.#now();
    const expiresAt = new Date(now.getTime() + (options.ttlMs ?? DEFAULT_CONFIRMATION_TTL_MS)).toISOString();
    // A request sent again (its request_id, the same binding) before anyone approved it replaces its waiting
    // challenge: approvers see one entry for it, never a stale one they could approve in vain. An approved one stays
    // (its requester may still use it), and so do other requests' (two runs of one pipeline are two requests).
    if (options.approval === 'other-principal' && options.request?.request_id)
      statement(
        this.#db,
        `UPDATE confirmations SET expires_at = ? WHERE binding = ? AND principal = ? AND approval = 'other-principal'
           AND used_at IS NULL AND approved_by IS NULL AND expires_at > ?
           AND json_extract(request, '$.request_id') = ?`,
      ).run(now.toISOString(), binding, principal.id, now.toISOString(), options.request.request_id);
    statement(
      this.#db,
      `INSERT INTO confirmations (id, binding, principal, principal_name, principal_owner, env, created_at, expires_at,
         approval, request)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      idOf(token),
      binding,
      principal.id,
      principal.name,
      principal.owner,
      options.env ?? null,
      now.toISOString(),
      expiresAt,
      options.approval ?? 'self',
      options.request ? JSON.stringify(options.request) : null,
    );
    return {
      confirmation_token: token,
      expires_at: expiresAt,
      binding,
      approval: options.approval ?? 'self',
    };
  }

  /**
   * Checks a token against the request it must be bound to (same principal, same payload, unused, unexpired)
   * without using it up; returns who approved it, if a second principal did.
   */
  check(token: string, binding: string, principal: Principal): { approvedBy?: string; approver?: Principal } {
    const row = this.#row(token);
    if (row.principal !== principal.id || row.binding !== binding) {
      throw invalid('binding', 'the confirmation token was issued for a different request or principal');
    }
    if (!row.approved_by) return {};
    const approver = this.#approverStillValid(row.approver_id)
      ? this.#principalOf(row.approver_id as string)
      : undefined;
    // An approver of the requester's own owner never counts, whenever that came to be (approve() refuses it).
    if (approver && approver.owner !== this.#requesterOwner(row))
      return { approvedBy: row.approved_by, approver };
    // The approver's token was revoked or expired since, or it is the requester's owner's: the approval is
    // withdrawn, and another may approve.
    statement(this.#db, 'UPDATE confirmations SET approved_by = NULL, approver_id = NULL WHERE id = ?').run(
      row.id,
    );
    return {};
  }

  // The requester's owner as the challenge recorded it; a row without one (none is written so) asks its token.
  #requesterOwner(row: ConfirmationRow): string {
    return (
      row.principal_owner ?? this.#principalOf(row.principal)?.owner ?? row.principal_name ?? row.principal
    );
  }

  // What a confirmation is for, as approvers see it, with its requester's owner.
  #view(row: ConfirmationRow): PendingConfirmation {
    return {
      ...(row.request ? (JSON.parse(row.request) as ConfirmedRequest) : {}),
      requested_by: row.principal_name ?? row.principal,
      requester_owner: this.#requesterOwner(row),
      approval: row.approval === 'other-principal' ? 'other-principal' : 'self',
      expires_at: row.expires_at,
      ...(row.approved_by ? { approved_by: row.approved_by } : {}),
    };
  }

  /** Whether the principal that asked for a confirmation (by its token or id) acts through a token or locally. */
  requesterVia(ref: string): Principal['via'] {
    return this.#row(ref, true).principal.startsWith('token/') ? 'token' : 'local';
  }

  // The principal of an identity as rows keep it: `local`, or `token/<id>`.
  #principalOf(identity: string): Principal | undefined {
    if (identity === LOCAL_PRINCIPAL.id) return LOCAL_PRINCIPAL;
    return identity.startsWith('token/')
      ? this.#tokens.principalById(identity.slice('token/'.length))
      : undefined;
  }

  // An approval counts while its approver could still approve: the local principal always; a token while it is
  // neither revoked nor expired.
  #approverStillValid(approverId: string | null): boolean {
    if (approverId === null) return false;
    if (!approverId.startsWith('token/')) return approverId === 'local';
    return this.#tokens.isValid(approverId.slice('token/'.length));
  }

  /** Uses the token up; false when another request used it first. */
  consume(token: string, binding: string): boolean {
    const result = statement(
      this.#db,
      'UPDATE confirmations SET used_at = ? WHERE id = ? AND binding = ? AND used_at IS NULL AND expires_at > ?',
    ).run(this.#now().toISOString(), idOf(token), binding, this.#now().toISOString());
    return Number(result.changes) === 1;
  }

  /** Ends a challenge its requester will not redeem (it gave up): it no longer waits for an approval. */
  withdraw(token: string): void {
    statement(this.#db, 'UPDATE confirmations SET used_at = ? WHERE id = ? AND used_at IS NULL').run(
      this.#now().toISOString(),
      idOf(token),
    );
  }

  /**
   * What a pending (unused, unexpired) confirmation is for, by its token or its id (or a unique prefix of it);
   * DVM_CONFIRMATION_INVALID otherwise.
   */
  pending(ref: string): PendingConfirmation {
    return this.#view(this.#row(ref, true));
  }

  /** What a confirmation was for, whatever its state (used, expired); undefined when the token or id is unknown. */
  describe(ref: unknown): PendingConfirmation | undefined {
    let row: ConfirmationRow | undefined;
    try {
      row = this.#find(ref, true);
    } catch {
      return undefined; // an ambiguous id prefix describes nothing
    }
    return row ? this.#view(row) : undefined;
  }

  /**
   * The challenges waiting for a second principal (unused, unexpired, not approved yet), newest first: what each
   * would run, for whom, until when, and its id, by which an approver names it without its token.
   */
  awaitingApproval(): AwaitingApproval[] {
    const rows = statement(
      this.#db,
      `SELECT * FROM confirmations WHERE approval = 'other-principal' AND used_at IS NULL AND approved_by IS NULL
         AND expires_at > ? ORDER BY created_at DESC LIMIT ?`,
    ).all(this.#now().toISOString(), MAX_AWAITING) as unknown as ConfirmationRow[];
    return rows
      .filter((row) => this.#requesterStillValid(row))
      .map((row) => ({ id: row.id, ...this.#view(row), created_at: row.created_at }));
  }

  /**
   * A second principal approves a pending challenge, named by its token or its id; returns what it approved
   * (`repeated` when this approver had approved it already: nothing changed). No self-approval: not by the
   * requesting principal, nor by another principal of the requester's owner.
   */
  approve(ref: string, approver: Principal): PendingConfirmation & { approved_by: string; repeated?: true } {
    const row = this.#row(ref, true);
    if (row.principal === approver.id) {
      throw invalid('self-approval', 'a principal cannot approve its own request', 'approver');
    }
    const owner = this.#requesterOwner(row);
    if (owner === approver.owner) {
      throw invalid(
        'self-approval',
        `${approver.name} cannot approve the request of ${row.principal_name ?? row.principal}: both belong to owner ${owner}`,
        'approver',
      );
    }
    // The approver approving again (a retry) changes nothing, and says so.
    if (row.approver_id === approver.id)
      return { ...this.#view(row), approved_by: approver.name, repeated: true };
    // One approval per confirmation: of two approvers racing, the second is refused rather than replacing the
    // first, so the approval audited as `allowed` is the one the run relies on.
    const set = statement(
      this.#db,
      'UPDATE confirmations SET approved_by = ?, approver_id = ? WHERE id = ? AND (approved_by IS NULL OR approver_id = ?)',
    ).run(approver.name, approver.id, row.id, approver.id);
    if (Number(set.changes) !== 1) {
      const current = statement(this.#db, 'SELECT approved_by FROM confirmations WHERE id = ?').get(row.id) as
        | { approved_by: string | null }
        | undefined;
      throw invalid(
        'approved',
        `the confirmation was already approved by ${current?.approved_by ?? 'another principal'}`,
        'approver',
      );
    }
    return { ...this.#view(row), approved_by: approver.name };
  }

  // The row of a token, or (when `byId`: lookups and approvals, never a run) of an id or a unique id prefix.
  #find(ref: unknown, byId = false): ConfirmationRow | undefined {
    if (typeof ref !== 'string') return undefined;
    if (TOKEN.test(ref))
      return statement(this.#db, 'SELECT * FROM confirmations WHERE id = ?').get(idOf(ref)) as
        | ConfirmationRow
        | undefined;
    if (!byId || !ID.test(ref)) return undefined;
    // Every id that starts with the prefix sorts from it up to it + 'g' (past the hex digits): a key range.
    const rows = statement(this.#db, 'SELECT * FROM confirmations WHERE id >= ? AND id < ? LIMIT 2').all(
      ref,
      `${ref}g`,
    ) as unknown as ConfirmationRow[];
    if (rows.length > 1)
      throw invalid('ambiguous', `the confirmation id ${ref} names more than one confirmation`, 'approver');
    return rows[0];
  }

  #row(ref: string, byId = false): ConfirmationRow {
    // Lookups and approvals (by id) are a second principal's; a run's token is the requester's.
    const reader = byId ? 'approver' : 'requester';
    if (typeof ref !== 'string' || !(TOKEN.test(ref) || (byId && ID.test(ref)))) {
      throw invalid(
        'unknown',
        byId
          ? 'not a dvm confirmation token (dvmc_…) or confirmation id (8 to 64 hex digits)'
          : 'the confirmation token is not a dvm confirmation token',
        reader,
      );
    }
    const row = this.#find(ref, byId);
    if (!row)
      throw invalid('unknown', `the confirmation ${TOKEN.test(ref) ? 'token' : 'id'} is unknown`, reader);
    if (row.used_at) throw invalid('used', 'the confirmation token was already used', reader);
    if (Date.parse(row.expires_at) <= this.#now().getTime()) {
      throw invalid('expired', `the confirmation token expired at ${row.expires_at}`, reader);
    }
    // A request whose requester's token was revoked or expired can never run: nothing to look up or approve.
    if (byId && !this.#requesterStillValid(row)) {
      throw invalid(
        'requester-invalid',
        `the request of ${row.principal_name ?? row.principal} can no longer run: its token was revoked or expired`,
        reader,
      );
    }
    return row;
  }

  // A requester can still redeem its challenge: the local principal always; a token while it is neither revoked nor
  // expired (the server refuses its requests otherwise).
  #requesterStillValid(row: ConfirmationRow): boolean {
    return !row.principal.startsWith('token/') || this.#tokens.isValid(row.principal.slice('token/'.length));
  }
}
