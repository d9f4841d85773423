import { DvmError } from '../../errors/dvm-error.ts';
import type { Principal } from '../auth/principal.ts';
import type { RequestRate } from '../server/rate-limit.ts';

/** How many long-running executions (follows) an agent runs at once: in all, and for one principal. */
export interface FollowLimits {
  total: number;
  perPrincipal: number;
}

/** The limits when config.yaml sets none: enough for a team, and one token cannot take them all. */
export const DEFAULT_FOLLOW_LIMITS: FollowLimits = { total: 100, perPrincipal: 20 };

/** config.yaml `agent.limits`, read: the follows' limits and, when set, each principal's request rate. */
export interface AgentLimits {
  follows: FollowLimits;
  rate?: RequestRate;
}

/**
 * config.yaml `agent.limits` (its value, read by agentSettings): `{follows, follows_per_principal,
 * requests_per_second, request_burst}`, each a positive integer; the follows' defaults for those left out, no request
 * rate without `requests_per_second` (a burst defaults to the rate). DVM_SCHEMA_INVALID (file, path) for anything
 * else.
 */
export function limitsSetting(value: unknown, file: string): AgentLimits {
  const known = 'follows, follows_per_principal, requests_per_second, request_burst';
  const invalid = (path: string, message: string) =>
    new DvmError('DVM_SCHEMA_INVALID', `${path} ${message}`, {
      file,
      path,
      fix: 'Write the limits as positive integers, e.g.\nagent:\n  limits: {follows: 100, follows_per_principal: 20, requests_per_second: 50, request_burst: 100}',
    });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('agent.limits', `must be a mapping (${known})`);
  const given: Record<string, number> = {};
  for (const [key, limit] of Object.entries(value)) {
    if (!known.split(', ').includes(key))
      throw invalid(`agent.limits.${key}`, `is not a limit (known: ${known})`);
    if (!Number.isSafeInteger(limit) || (limit as number) < 1)
      throw invalid(`agent.limits.${key}`, `must be a positive integer, not ${JSON.stringify(limit)}`);
    given[key] = limit as number;
  }
  if (given.request_burst !== undefined && given.requests_per_second === undefined)
    throw invalid('agent.limits.request_burst', 'needs requests_per_second (the rate the burst is above)');
  return {
    follows: {
      total: given.follows ?? DEFAULT_FOLLOW_LIMITS.total,
      perPrincipal: given.follows_per_principal ?? DEFAULT_FOLLOW_LIMITS.perPrincipal,
    },
    ...(given.requests_per_second !== undefined
      ? {
          rate: {
            perSecond: given.requests_per_second,
            burst: given.request_burst ?? given.requests_per_second,
          },
        }
      : {}),
  };
}

/**
 * The follows an executor runs, by execution id: a slot is taken before a new follow is claimed (synchronously, so
 * concurrent requests cannot overshoot) and given back when it ends or turns out to be a repeat.
 */
export class FollowSlots {
  readonly #limits: FollowLimits;
  readonly #running = new Map<string, string>();

  constructor(limits: FollowLimits = DEFAULT_FOLLOW_LIMITS) {
    this.#limits = limits;
  }

  /** Takes a slot for `executionId`, or throws DVM_TOO_MANY_RUNNING when the agent's or the principal's are used up. */
  take(executionId: string, principal: Principal): void {
    const mine = [...this.#running.values()].filter((id) => id === principal.id).length;
    const scope =
      mine >= this.#limits.perPrincipal
        ? { scope: 'principal', limit: this.#limits.perPrincipal, running: mine }
        : this.#running.size >= this.#limits.total
          ? { scope: 'agent', limit: this.#limits.total, running: this.#running.size }
          : undefined;
    if (scope) {
      throw new DvmError(
        'DVM_TOO_MANY_RUNNING',
        scope.scope === 'principal'
          ? `${principal.name} already runs ${mine} follows, the most one principal may`
          : `the agent already runs ${this.#running.size} follows, the most it may`,
        {
          fix: `Wait for one to end or cancel one (dvm execution list --status running; dvm execution cancel ID), or raise agent.limits.${scope.scope === 'principal' ? 'follows_per_principal' : 'follows'} in config.yaml.`,
          details: scope,
        },
      );
    }
    this.#running.set(executionId, principal.id);
  }

  /** True while `executionId` holds a slot (a follow that runs). */
  holds(executionId: string): boolean {
    return this.#running.has(executionId);
  }

  /** Gives the slot of `executionId` back (no-op when it holds none). */
  release(executionId: string): void {
    this.#running.delete(executionId);
  }
}
