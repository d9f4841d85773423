/** An async unit of work that stops promptly when its signal aborts. */
export type Step<T> = (signal: AbortSignal) => Promise<T>;

/** The results of a list (or tuple) of steps, position for position. */
export type StepResults<S extends readonly Step<unknown>[]> = {
  -readonly [K in keyof S]: S[K] extends Step<infer R> ? R : never;
};
