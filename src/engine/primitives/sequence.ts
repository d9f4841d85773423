import type { Step, StepResults } from './step.ts';

/** Runs the steps one after the other and resolves with their results, stopping at the first failure. */
export function sequence<const S extends readonly Step<unknown>[]>(steps: S): Step<StepResults<S>> {
  return async (signal) => {
    signal.throwIfAborted();
    const results: unknown[] = new Array(steps.length);
    for (let i = 0; i < steps.length; i++) {
      if (i > 0) signal.throwIfAborted();
      try {
        results[i] = await steps[i](signal);
      } catch (error) {
        // A step stopped by the abort may throw anything; the abort is what the caller needs to see.
        throw signal.aborted ? signal.reason : error;
      }
    }
    return results as StepResults<S>;
  };
}
