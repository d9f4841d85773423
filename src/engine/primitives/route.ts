import type { Step } from './step.ts';

/** The error a {@link route} step rejects with when `select` names no route and there is no fallback. */
export class RouteError extends Error {
  readonly name = 'RouteError';
  /** The key that matched no route. */
  readonly key: string;

  constructor(key: string) {
    super(`No route for "${key}"`);
    this.key = key;
  }
}

/** Runs the step that `select` names among `routes`, else `fallback`, else rejects with a RouteError. */
export function route<T>(
  select: (signal: AbortSignal) => string | Promise<string>,
  routes: Readonly<Record<string, Step<T>>>,
  fallback?: Step<T>,
): Step<T> {
  // A Map keeps inherited names such as "constructor" or "toString" from passing for routes.
  const table = new Map(Object.entries(routes));
  return async (signal) => {
    signal.throwIfAborted();
    try {
      const key = await select(signal);
      signal.throwIfAborted();
      const step = table.get(key) ?? fallback;
      if (!step) throw new RouteError(key);
      return await step(signal);
    } catch (error) {
      // A selector or step stopped by the abort may throw anything; the abort is what the caller needs to see.
      throw signal.aborted ? signal.reason : error;
    }
  };
}
