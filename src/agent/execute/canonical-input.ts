import { tmpdir } from 'node:os';
import type { ActionContext, ActionDefinition } from '../../actions/action.ts';
import { createMemoryLog } from '../../actions/log-file.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';

/** How long resolving what a request names (a container, a JVM) may take before the request is refused. */
export const CANONICAL_INPUT_TIMEOUT_MS = 10_000;

/** How many resolutions run at once (a JVM's costs a `jcmd -l`, itself a JVM); the others wait their turn. */
export const MAX_RESOLVING = 2;

let resolving = 0;
const queue: (() => void)[] = [];

// Waits for a resolution slot (or `signal`); answers the function that gives it back.
async function slot(signal: AbortSignal): Promise<() => void> {
  if (resolving >= MAX_RESOLVING) {
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal.removeEventListener('abort', stop);
        resolve();
      };
      const stop = () => {
        queue.splice(queue.indexOf(go), 1);
        reject(signal.reason);
      };
      queue.push(go);
      signal.addEventListener('abort', stop, { once: true });
    });
  } else resolving++;
  let given = false;
  return () => {
    if (given) return;
    given = true;
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
  given: { env: Record<string, string>; workdir?: string; signal?: AbortSignal },
): Promise<Record<string, unknown>> {
  if (!definition.canonicalInput) return params;
  const timeout = AbortSignal.timeout(CANONICAL_INPUT_TIMEOUT_MS);
  const signal = given.signal ? AbortSignal.any([timeout, given.signal]) : timeout;
  const context: ActionContext = {
    signal,
    workdir: given.workdir ?? process.cwd(),
    env: given.env,
    log: createMemoryLog({ maxBytes: 64 * 1024 }),
    resultsDir: tmpdir(),
    notify: {},
  };
  let release = () => {};
  try {
    release = await slot(signal);
    if (signal.aborted) throw signal.reason;
    return (await definition.canonicalInput(structuredClone(params), context)) ?? params;
  } catch (error) {
    const why = timeout.aborted
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
