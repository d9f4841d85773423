import { DvmError } from '../../errors/dvm-error.ts';
import type { Principal } from '../auth/principal.ts';
import type { ConnectionLimits } from './connection-limits.ts';

/** Which limit refused an event stream: the principal's share (`streams_per_principal`) or the server's (`streams`). */
export type StreamScope = 'per_principal' | 'server';

/** An event stream refused: the limit it met, the 429 to answer, and the reason the denial audit records. */
export interface StreamRefusal {
  scope: StreamScope;
  error: DvmError;
  reason: string;
}

/**
 * The event streams a server sends, each held by a principal: a slot is taken (synchronously, so concurrent
 * requests cannot overshoot) before a stream opens, and given back when it ends or its client goes away. The limits
 * are read anew for every stream, so a reloaded config.yaml counts from the next one; streams already open keep
 * their slots.
 */
export class StreamSlots {
  readonly #limits: () => Pick<ConnectionLimits, 'streams' | 'streamsPerPrincipal'>;
  // Each open stream's end (what the agent stopping calls), with the principal id that holds it.
  readonly #open = new Map<() => void, string>();
  // Open streams by principal id (absent at zero).
  readonly #held = new Map<string, number>();

  constructor(limits: () => Pick<ConnectionLimits, 'streams' | 'streamsPerPrincipal'>) {
    this.#limits = limits;
  }

  /** The streams open now. */
  get open(): number {
    return this.#open.size;
  }

  /**
   * Takes a slot for `principal`'s stream of `executionId`, ended by `end`; or, when the principal holds its share
   * or the server all its streams, takes none and answers the refusal. The principal's share is checked first,
   * unless it is the whole (a share cut to `streams`): then the server's limit is the one met.
   */
  take(principal: Principal, executionId: string, end: () => void): StreamRefusal | undefined {
    const { streams, streamsPerPrincipal } = this.#limits();
    const mine = this.#held.get(principal.id) ?? 0;
    if (mine >= streamsPerPrincipal && streamsPerPrincipal < streams) {
      return {
        scope: 'per_principal',
        error: tooManyStreams('per_principal', streamsPerPrincipal, mine, executionId, principal.name),
        reason: `${principal.name} holds ${mine} event streams (agent.limits.streams_per_principal)`,
      };
    }
    if (this.#open.size >= streams) {
      return {
        scope: 'server',
        error: tooManyStreams('server', streams, this.#open.size, executionId),
        reason: `${streams} event streams open (agent.limits.streams)`,
      };
    }
    this.#open.set(end, principal.id);
    this.#held.set(principal.id, mine + 1);
    return undefined;
  }

  /** Gives back the slot of the stream `end` ends (no-op once given back). */
  release(end: () => void): void {
    const id = this.#open.get(end);
    if (id === undefined) return;
    this.#open.delete(end);
    const left = (this.#held.get(id) ?? 1) - 1;
    if (left > 0) this.#held.set(id, left);
    else this.#held.delete(id);
  }

  /** Ends every open stream (each end gives its slot back). */
  endAll(): void {
    for (const end of [...this.#open.keys()]) end();
  }
}

/**
 * The 429 DVM_TOO_MANY_STREAMS refusal of an event stream: past `agent.limits.streams_per_principal` for the
 * principal named `who`, or past `agent.limits.streams` across the server; details say which (`scope`), the limit and
 * the streams `open` in it.
 */
export function tooManyStreams(
  scope: StreamScope,
  limit: number,
  open: number,
  executionId: string,
  who?: string,
): DvmError {
  const setting = scope === 'per_principal' ? 'agent.limits.streams_per_principal' : 'agent.limits.streams';
  return new DvmError(
    'DVM_TOO_MANY_STREAMS',
    scope === 'per_principal'
      ? `${who} already holds ${open} event streams, and ${setting} allows one principal ${limit}`
      : `the agent already sends ${open} event streams, and ${setting} allows ${limit}`,
    {
      fix:
        scope === 'per_principal'
          ? `Close one of this token's streams (each \`dvm execution logs -f\` or \`dvm action run --follow\` holds one), connect again after Retry-After, check GET /v1/executions/${executionId} instead, or raise ${setting} in config.yaml.`
          : `Connect again after Retry-After (a stream frees when one ends), check GET /v1/executions/${executionId} instead, or raise ${setting} in config.yaml.`,
      details: { scope, limit, open },
    },
  );
}
