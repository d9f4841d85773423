import { tmpdir } from 'node:os';
import type { ActionContext, ActionDefinition } from '../../actions/action.ts';
import { createMemoryLog } from '../../actions/log-file.ts';

/** How long resolving what a request names (a container, a JVM) may take before it is decided on as sent. */
export const CANONICAL_INPUT_TIMEOUT_MS = 10_000;

/**
 * The params a request is decided and run on: what they name written in its one form (a container's id → its name;
 * see ActionDefinition.canonicalInput), or the params as sent when the action has no such form or it cannot be told.
 */
export async function canonicalInput(
  definition: ActionDefinition,
  params: Record<string, unknown>,
  given: { env: Record<string, string>; workdir?: string; signal?: AbortSignal },
): Promise<Record<string, unknown>> {
  if (!definition.canonicalInput) return params;
  const timeout = AbortSignal.timeout(CANONICAL_INPUT_TIMEOUT_MS);
  const context: ActionContext = {
    signal: given.signal ? AbortSignal.any([timeout, given.signal]) : timeout,
    workdir: given.workdir ?? process.cwd(),
    env: given.env,
    log: createMemoryLog({ maxBytes: 64 * 1024 }),
    resultsDir: tmpdir(),
    notify: {},
  };
  try {
    return (await definition.canonicalInput(structuredClone(params), context)) ?? params;
  } catch {
    return params;
  }
}
