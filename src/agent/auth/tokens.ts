import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { DvmError } from '../../errors/dvm-error.ts';
import {
  ANONYMOUS,
  isRole,
  LOCAL_PRINCIPAL,
  type Principal,
  RESERVED_PRINCIPAL_NAMES,
  ROLES,
  type Role,
  tokenPrincipal,
} from './principal.ts';

/** Shape of a dvm API token: `dvm_` + 8 hex id + `_` + 43 base64url characters (256 random bits). */
export const TOKEN_PATTERN = /^dvm_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

/** A token as listed: never its secret or hash. */
export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  /** The person or team behind the token: its --owner, else its name. */
  owner: string;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  /** `active`, `expired` or `revoked`, as of the listing. */
  state: 'active' | 'expired' | 'revoked';
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  /** NULL for tokens made before owners: the token's own name. */
  owner: string | null;
}

const NAME_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
const ID_PATTERN = /^[0-9a-f]{8}$/;

/** The longest ttl a token may have: 3650 days (about ten years). */
export const MAX_TOKEN_TTL_MS = 3650 * 86_400_000;

// The owner of a token row: its own name when it was made without one.
function ownerOf(row: Pick<TokenRow, 'name' | 'owner'>): string {
  return row.owner ?? row.name;
}

// DVM_TOKEN_INVALID unless `owner` can own a token: a name like a token's, or `local` for the machine's own user.
function checkOwner(owner: string): void {
  if (!NAME_PATTERN.test(owner)) {
    throw new DvmError('DVM_TOKEN_INVALID', `owner "${owner}" is not valid`, {
      fix: 'Name the person or team like a token: 1–63 lowercase letters, digits, ".", "_" or "-", starting and ending with a letter or digit.',
      path: 'owner',
    });
  }
  if (owner === ANONYMOUS) {
    throw new DvmError(
      'DVM_TOKEN_INVALID',
      `owner "${owner}" is reserved: it names unauthenticated callers`,
      {
        fix: `Name the person or team the token is for (e.g. --owner alice), or ${LOCAL_PRINCIPAL.owner} for the user of this machine.`,
        path: 'owner',
      },
    );
  }
}

function hashOf(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

function unauthenticated(reason: string, message: string): DvmError {
  return new DvmError('DVM_UNAUTHENTICATED', message, {
    fix: 'Send `Authorization: Bearer <token>` with a token from `dvm token create` that is neither expired nor revoked.',
    details: { reason },
  });
}

/** Bearer tokens of the agent API: created once (the secret is shown once), stored as SHA-256 hashes. */
export class TokenStore {
  readonly #db: DatabaseSync;
  readonly #now: () => Date;
  readonly #byId: StatementSync;
  readonly #dataVersion: StatementSync;
  // Rows read since the database last changed in another connection (PRAGMA data_version): tokens are only
  // written by other processes (the CLI), so a revocation is seen by the first request read after it commits.
  #cache = new Map<string, TokenRow | undefined>();
  #cacheVersion = -1;
  // The version is read once per event-loop turn, not per request: the requests of one turn arrived together,
  // and each read is a read transaction that takes file locks.
  #checkedThisTurn = false;

  constructor(db: DatabaseSync, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
    this.#byId = db.prepare('SELECT * FROM tokens WHERE id = ?');
    this.#dataVersion = db.prepare('PRAGMA data_version');
  }

  #row(id: string): TokenRow | undefined {
    if (!this.#checkedThisTurn) {
      this.#checkedThisTurn = true;
      setImmediate(() => {
        this.#checkedThisTurn = false;
      });
      const version = (this.#dataVersion.get() as { data_version: number }).data_version;
      if (version !== this.#cacheVersion) {
        this.#cache = new Map();
        this.#cacheVersion = version;
      }
    }
    if (this.#cache.size > 10_000) this.#cache = new Map();
    if (!this.#cache.has(id)) this.#cache.set(id, this.#byId.get(id) as TokenRow | undefined);
    return this.#cache.get(id);
  }

  /**
   * Creates a token for `owner` (a person or team; default: the token's own name, `local`: the user of this
   * machine); returns the secret token (print it once) and its listing.
   */
  create(name: string, role: string, ttlMs?: number, owner?: string): { token: string; info: TokenInfo } {
    if (!NAME_PATTERN.test(name)) {
      throw new DvmError('DVM_TOKEN_INVALID', `token name "${name}" is not valid`, {
        fix: 'Use 1–63 lowercase letters, digits, ".", "_" or "-", starting and ending with a letter or digit.',
        path: 'name',
      });
    }
    if (ID_PATTERN.test(name)) {
      throw new DvmError('DVM_TOKEN_INVALID', `token name "${name}" looks like a token id`, {
        fix: 'Pick a name that is not 8 hexadecimal digits, so `dvm token revoke NAME` can never mean another token.',
        path: 'name',
      });
    }
    if (RESERVED_PRINCIPAL_NAMES.includes(name)) {
      throw new DvmError('DVM_TOKEN_INVALID', `token name "${name}" is reserved for a built-in principal`, {
        fix: `Pick another name; ${RESERVED_PRINCIPAL_NAMES.join(', ')} ${RESERVED_PRINCIPAL_NAMES.length === 1 ? 'is' : 'are'} reserved.`,
        path: 'name',
      });
    }
    if (!isRole(role)) {
      throw new DvmError('DVM_TOKEN_INVALID', `role "${role}" is not a role`, {
        fix: `Use one of: ${ROLES.join(', ')}.`,
        path: 'role',
      });
    }
    if (owner !== undefined) checkOwner(owner);
    if (ttlMs !== undefined && !(ttlMs > 0)) {
      throw new DvmError('DVM_TOKEN_INVALID', 'the ttl must be a positive duration', {
        fix: 'Pass e.g. --ttl 24h, or leave it out for a token that does not expire.',
        path: 'ttl',
      });
    }
    if (ttlMs !== undefined && ttlMs > MAX_TOKEN_TTL_MS) {
      throw new DvmError('DVM_TOKEN_INVALID', 'the ttl is longer than the maximum, 3650d', {
        fix: 'Pass a ttl of at most 3650d (e.g. --ttl 365d), or leave it out for a token that does not expire.',
        path: 'ttl',
      });
    }
    const existing = this.#db.prepare('SELECT revoked_at FROM tokens WHERE name = ?').get(name) as
      | { revoked_at: string | null }
      | undefined;
    if (existing) {
      throw new DvmError(
        'DVM_ALREADY_EXISTS',
        `a token named "${name}" ${existing.revoked_at ? `existed (revoked at ${existing.revoked_at})` : 'exists'}`,
        {
          fix: 'Pick another name: token names are never reused, not even after a revocation, so each audit entry names one token.',
        },
      );
    }
    let id = randomBytes(4).toString('hex');
    while (this.#byId.get(id)) id = randomBytes(4).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.#now();
    const createdAt = now.toISOString();
    const expiresAt = ttlMs !== undefined ? new Date(now.getTime() + ttlMs).toISOString() : null;
    this.#db
      .prepare(
        'INSERT INTO tokens (id, name, role, hash, created_at, expires_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, name, role, hashOf(secret).toString('hex'), createdAt, expiresAt, owner ?? name);
    this.#cache.clear(); // our own writes do not move data_version
    const info = this.#info(this.#byId.get(id) as unknown as TokenRow);
    return { token: `dvm_${id}_${secret}`, info };
  }

  /** Every token, newest first, with its state. */
  list(): TokenInfo[] {
    const rows = this.#db.prepare('SELECT * FROM tokens ORDER BY created_at DESC, name').all();
    return (rows as unknown as TokenRow[]).map((row) => this.#info(row));
  }

  /**
   * Revokes a token by its exact id, else by its name (`by` restricts it to one); an argument that is one token's
   * id and another's name is DVM_AMBIGUOUS. Revoking twice is fine (`alreadyRevoked`: nothing changed), an unknown
   * one is DVM_NOT_FOUND.
   */
  revoke(ref: string, by: 'id' | 'name' | 'either' = 'either'): TokenInfo & { alreadyRevoked: boolean } {
    const byId =
      by !== 'name' && ID_PATTERN.test(ref) ? (this.#byId.get(ref) as TokenRow | undefined) : undefined;
    const byName =
      by !== 'id'
        ? (this.#db.prepare('SELECT * FROM tokens WHERE name = ?').get(ref) as TokenRow | undefined)
        : undefined;
    if (byId && byName && byId.id !== byName.id) {
      throw new DvmError(
        'DVM_AMBIGUOUS',
        `"${ref}" is the id of token "${byId.name}" and the name of token "${byName.name}" (id ${byName.id})`,
        {
          fix: `Say which: dvm token revoke --id ${ref} (token "${byId.name}"), or dvm token revoke --name ${ref} (id ${byName.id}).`,
          details: {
            matches: [
              { id: byId.id, name: byId.name },
              { id: byName.id, name: byName.name },
            ],
          },
        },
      );
    }
    const row = byId ?? byName;
    if (!row) {
      const what = by === 'id' ? 'id' : by === 'name' ? 'name' : 'id or name';
      throw new DvmError('DVM_NOT_FOUND', `no token has the ${what} "${ref}"`, {
        fix: 'Run `dvm token list` to see the tokens.',
      });
    }
    if (!row.revoked_at) {
      this.#db
        .prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?')
        .run(this.#now().toISOString(), row.id);
    }
    this.#cache.clear();
    return {
      ...this.#info(this.#byId.get(row.id) as unknown as TokenRow),
      alreadyRevoked: Boolean(row.revoked_at),
    };
  }

  /** The principal of the token with this id, whatever its state; undefined when there is none. */
  principalById(id: string): Principal | undefined {
    const row = this.#row(id);
    return row && isRole(row.role) ? tokenPrincipal(row.id, row.name, row.role, ownerOf(row)) : undefined;
  }

  /** True when the token with this id was revoked (not when it only expired). */
  isRevoked(id: string): boolean {
    return Boolean(this.#row(id)?.revoked_at);
  }

  /** True while the token with this id would authenticate: it exists, is neither revoked nor expired, and has no reserved name. */
  isValid(id: string): boolean {
    const row = this.#row(id);
    if (!row || row.revoked_at || RESERVED_PRINCIPAL_NAMES.includes(row.name)) return false;
    return !row.expires_at || Date.parse(row.expires_at) > this.#now().getTime();
  }

  /**
   * The principal of an `Authorization` header value; DVM_UNAUTHENTICATED (with `details.reason`) otherwise, also
   * when the request carried the header more than once (`repeated`: Node keeps the first, and a proxy in front may
   * have checked another).
   */
  authenticate(authorization: string | undefined, repeated = false): Principal {
    if (repeated)
      throw unauthenticated(
        'malformed',
        'the request has more than one Authorization header: send exactly one',
      );
    if (!authorization) throw unauthenticated('missing', 'the request has no Authorization header');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthenticated('malformed', 'the Authorization header is not `Bearer <token>`');
    const parts = TOKEN_PATTERN.exec(match[1]);
    if (!parts) throw unauthenticated('invalid', 'the bearer token is not a dvm token');
    const row = this.#row(parts[1]);
    // Compare hashes in constant time; an unknown id still hashes, so timing does not tell ids apart.
    const presented = hashOf(parts[2]);
    const stored = row ? Buffer.from(row.hash, 'hex') : Buffer.alloc(presented.length);
    const matches = timingSafeEqual(presented, stored);
    if (!row || !matches) throw unauthenticated('invalid', 'the bearer token is not valid');
    if (row.revoked_at) throw unauthenticated('revoked', `token "${row.name}" was revoked`);
    // A token created before built-in names were reserved must not pass for the built-in principal.
    if (RESERVED_PRINCIPAL_NAMES.includes(row.name)) {
      throw unauthenticated('reserved', `token "${row.name}" has the name of a built-in principal`);
    }
    if (row.expires_at && Date.parse(row.expires_at) <= this.#now().getTime()) {
      throw unauthenticated('expired', `token "${row.name}" expired at ${row.expires_at}`);
    }
    return tokenPrincipal(row.id, row.name, row.role as Role, ownerOf(row));
  }

  /** The principal of the token with this name, if there is one (for `dvm policy test --principal NAME`). */
  principalNamed(name: string): Principal | undefined {
    const row = this.#db.prepare('SELECT id, role, owner FROM tokens WHERE name = ?').get(name) as
      | { id: string; role: string; owner: string | null }
      | undefined;
    return row && isRole(row.role)
      ? tokenPrincipal(row.id, name, row.role, ownerOf({ name, owner: row.owner }))
      : undefined;
  }

  #info(row: TokenRow): TokenInfo {
    const expired = row.expires_at !== null && Date.parse(row.expires_at) <= this.#now().getTime();
    return {
      id: row.id,
      name: row.name,
      role: row.role as Role,
      owner: ownerOf(row),
      createdAt: row.created_at,
      ...(row.expires_at ? { expiresAt: row.expires_at } : {}),
      ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
      state: row.revoked_at ? 'revoked' : expired ? 'expired' : 'active',
    };
  }
}
