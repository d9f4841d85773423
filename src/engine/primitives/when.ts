import type { Step } from './step.ts';

/** A condition for {@link when}, possibly async. */
export type Predicate = (signal: AbortSignal) => boolean | Promise<boolean>;

/** Runs the step if the predicate holds, else resolves with undefined. */
export function when<T>(predicate: Predicate, step: Step<T>): Step<T | undefined>;
/** Runs the step if the predicate holds, else the `otherwise` step. */
export function when<T, U>(predicate: Predicate, step: Step<T>, otherwise: Step<U>): Step<T | U>;
export function when<T, U>(
  predicate: Predicate,
  step: Step<T>,
  otherwise?: Step<U>,
): Step<T | U | undefined> {
  return async (signal) => {
    signal.throwIfAborted();
    try {
      const holds = await predicate(signal);
      signal.throwIfAborted();
      if (holds) return await step(signal);
      return otherwise ? await otherwise(signal) : undefined;
    } catch (error) {
      // A predicate or step stopped by the abort may throw anything; the abort is what the caller needs to see.
      throw signal.aborted ? signal.reason : error;
    }
  };
}
