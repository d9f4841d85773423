/** The roles of the agent API, weakest first: viewer reads, operator also writes, admin may do anything. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

/** A role of the agent API. */
export type Role = (typeof ROLES)[number];

/** Who is calling: a token's name and role, or the local CLI user (`local`, admin). */
export interface Principal {
  name: string;
  role: Role;
  /** `token` for API callers, `local` for the CLI running in-process. */
  via: 'token' | 'local';
  tokenId?: string;
}

/** The principal of the CLI when it runs actions in-process (no server): the local admin. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ name: 'local', role: 'admin', via: 'local' });

/** True when `value` names a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
