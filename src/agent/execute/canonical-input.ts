import { tmpdir } from 'node:os';
import type { ActionContext, ActionDefinition } from '../../actions/action.ts';
import { createMemoryLog } from '../../actions/log-file.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';

/** How long resolving what a request names (a container, a JVM) may take before the request is refused. */
export const CANONICAL_INPUT_TIMEOUT_MS = 10_000;

/** How many resolutions run at once (a JVM's costs a `jcmd -l`, itself a JVM); the others wait their turn. */
export const MAX_RESOLVING = 2;

/** How many resolutions one principal may have running or waiting: past it, 429 (one token cannot hold the queue). */
export const MAX_RESOLVING_PER_PRINCIPAL = 2;

/** How long a request may wait for its turn to resolve before it is refused (busy, not Docker's fault). */
export const RESOLVE_QUEUE_WAIT_MS = 30_000;

let resolving = 0;
const queue: (() => void)[] = [];
const byPrincipal = new Map<string, number>();

// Waits for a resolution slot (or `signal`, or the queue's wait limit); answers the function that gives it back.
// The principal's share is taken first: one principal has at most MAX_RESOLVING_PER_PRINCIPAL running or waiting.
async function slot(principal: string | undefined, signal?: AbortSignal): Promise<() => void> {
  const held = principal === undefined ? 0 : (byPrincipal.get(principal) ?? 0);
  if (principal !== undefined && held >= MAX_RESOLVING_PER_PRINCIPAL) {
    throw new DvmError(
      'DVM_TOO_MANY_RUNNING',
      `${principal} already has ${held} requests waiting to have their container or JVM params resolved (at most ${MAX_RESOLVING_PER_PRINCIPAL} at once)`,
      {
        fix: 'Send it again once your earlier requests are answered.',
        details: { scope: 'per_principal', limit: MAX_RESOLVING_PER_PRINCIPAL },
      },
    );
  }
  if (principal !== undefined) byPrincipal.set(principal, held + 1);
  const leave = () => {
    if (principal === undefined) return;
    const left = (byPrincipal.get(principal) ?? 1) - 1;
    if (left > 0) byPrincipal.set(principal, left);
    else byPrincipal.delete(principal);
  };
  if (resolving >= MAX_RESOLVING) {
    const waited = AbortSignal.timeout(RESOLVE_QUEUE_WAIT_MS);
    const stopped = signal ? AbortSignal.any([waited, signal]) : waited;
    try {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          stopped.removeEventListener('abort', stop);
          resolve();
        };
        const stop = () => {
          queue.splice(queue.indexOf(go), 1);
          reject(
            waited.aborted
              ? new Error(
                  `the agent resolves ${MAX_RESOLVING} at once and this one waited ${RESOLVE_QUEUE_WAIT_MS / 1000} s`,
                )
              : stopped.reason,
          );
        };
        queue.push(go);
        stopped.addEventListener('abort', stop, { once: true });
      });
    } catch (error) {
      leave();
      throw error;
    }
  } else resolving++;
  let given = false;
  return () => {
    if (given) return;
    given = true;
    leave();
    const next = queue.shift();
    if (next) next();
    else resolving--;
  };
}

/**
 * The params a request is decided and run on: what they name written in its one form (a container's id → its name;
 * see ActionDefinition.canonicalInput), or the params as sent when nothing of that name exists (the action then fails
 * the same way). When it cannot be told — Docker or jcmd unreachable or slow, the request stopped — the request is
 * refused (DVM_CONNECTOR_UNAVAILABLE), never decided on an alias the policy might not recognise.
 */
export async function canonicalInput(
  definition: ActionDefinition,
  params: Record<string, unknown>,
  given: {
    env: Record<string, string>;
    workdir?: string;
    signal?: AbortSignal;
    /** Whose share of the resolutions it takes; none: no share (a pipeline task, bounded by its run's parallelism). */
    principal?: string;
    /** ActionContext.choiceSeed: stable for the request. */
    choiceSeed?: string;
  },
): Promise<Record<string, unknown>> {
  if (!definition.canonicalInput) return params;
  let timeout: AbortSignal | undefined;
  let release = () => {};
  try {
    release = await slot(given.principal, given.signal);
    // The resolution's own time starts with its turn.
    timeout = AbortSignal.timeout(CANONICAL_INPUT_TIMEOUT_MS);
    const signal = given.signal ? AbortSignal.any([timeout, given.signal]) : timeout;
    if (signal.aborted) throw signal.reason;
    const context: ActionContext = {
      signal,
      workdir: given.workdir ?? process.cwd(),
      env: given.env,
      log: createMemoryLog({ maxBytes: 64 * 1024 }),
      resultsDir: tmpdir(),
      notify: {},
      ...(given.choiceSeed !== undefined ? { choiceSeed: given.choiceSeed } : {}),
    };
    return (await definition.canonicalInput(structuredClone(params), context)) ?? params;
  } catch (error) {
    // Busy, an alias several things answer to (the caller must say which), or a param that cannot name anything
    // (DVM_USAGE): the caller's to fix, not Docker's.
    if (isDvmError(error) && ['DVM_TOO_MANY_RUNNING', 'DVM_AMBIGUOUS', 'DVM_USAGE'].includes(error.code))
      throw error;
    const why = timeout?.aborted
      ? `it took longer than ${CANONICAL_INPUT_TIMEOUT_MS / 1000} s`
      : isDvmError(error) || error instanceof Error
        ? error.message
        : String(error);
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `cannot tell what the params of ${definition.name} name (${why}); nothing ran: policies decide on what they name`,
      {
        fix: 'Send it again once Docker (or jcmd) answers; the same request_id is safe to send again.',
        details: { origin: 'system' },
      },
    );
  } finally {
    release();
  }
}
