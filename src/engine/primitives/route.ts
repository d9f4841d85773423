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

/** The result of any of the steps of `routes`. */
type RouteResult<R extends Readonly<Record<string, Step<unknown>>>> = {
  [K in keyof R]: R[K] extends Step<infer T> ? T : never;
}[keyof R];

/** Runs the step that `select` names among `routes`, else `fallback`, else rejects with a RouteError. */
export function route<const R extends Readonly<Record<string, Step<unknown>>>, F = never>(
  select: (signal: AbortSignal) => string | Promise<string>,
  routes: R,
  fallback?: Step<F>,
): Step<RouteResult<R> | F> {
  // A Map keeps inherited names such as "constructor" or "toString" from passing for routes.
  const table = new Map(Object.entries(routes));
  return async (signal) => {
    signal.throwIfAborted();
    try {
      const key = await select(signal);
      signal.throwIfAborted();
      const step: Step<unknown> | undefined = table.get(key) ?? fallback;
      if (!step) throw new RouteError(key);
      return (await step(signal)) as RouteResult<R> | F;
    } catch (error) {
      // A selector or step stopped by the abort may throw anything; the abort is what the caller needs to see.
      throw signal.aborted ? signal.reason : error;
    }
  };
}
