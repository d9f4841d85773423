/** The roles of the agent API, weakest first: viewer reads, operator also writes, admin may do anything. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

/** A role of the agent API. */
export type Role = (typeof ROLES)[number];

/**
 * Who is calling: a token's name and role, or the local CLI user (`local`, admin). `name` is for people (audit
 * actor, policies); `id` is what ownership, idempotency keys and confirmations are keyed by, and cannot collide
 * across kinds: `token/<token id>` for a token, `local` for the local admin. `owner` is the person or team behind
 * it (a token's `--owner`, else its name; `local` for the local CLI user): the two-person rule wants two owners.
 */
export interface Principal {
  id: string;
  name: string;
  role: Role;
  /** The person or team the principal acts for; two principals of one owner are one person to the two-person rule. */
  owner: string;
  /** `token` for API callers, `local` for the CLI running in-process. */
  via: 'token' | 'local';
  tokenId?: string;
}

/** The principal of the CLI when it runs actions in-process (no server): the local admin. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({
  id: 'local',
  name: 'local',
  role: 'admin',
  owner: 'local',
  via: 'local',
});

/** The audit actor of a request refused before it was authenticated. */
export const ANONYMOUS = 'anonymous';

/** Names of built-in principals (and the anonymous audit actor): no token may be named like one. */
export const RESERVED_PRINCIPAL_NAMES: readonly string[] = [LOCAL_PRINCIPAL.name, ANONYMOUS];

/** The principal of an API token; its owner defaults to its name (a token created without --owner is its own person). */
export function tokenPrincipal(tokenId: string, name: string, role: Role, owner: string = name): Principal {
  return { id: `token/${tokenId}`, name, role, owner, via: 'token', tokenId };
}

/** True when `value` names a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
