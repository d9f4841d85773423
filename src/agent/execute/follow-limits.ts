import { DvmError } from '../../errors/dvm-error.ts';
import type { Principal } from '../auth/principal.ts';

/** How many long-running executions (follows) an agent runs at once: in all, and for one principal. */
export interface FollowLimits {
  total: number;
  perPrincipal: number;
}

/** The limits when config.yaml sets none: enough for a team, and one token cannot take them all. */
export const DEFAULT_FOLLOW_LIMITS: FollowLimits = { total: 100, perPrincipal: 20 };

/**
 * The follows an executor runs, by execution id: a slot is taken before a new follow is claimed (synchronously, so
 * concurrent requests cannot overshoot) and given back when it ends or turns out to be a repeat.
 */
export class FollowSlots {
  #limits: FollowLimits;
  readonly #running = new Map<string, string>();

  constructor(limits: FollowLimits = DEFAULT_FOLLOW_LIMITS) {
    this.#limits = limits;
  }

  /** Applies new limits to the follows taken from now on (those running keep their slots). */
  useLimits(limits: FollowLimits = DEFAULT_FOLLOW_LIMITS): void {
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
