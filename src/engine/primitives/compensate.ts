import type { Step } from './step.ts';

/** One saga step: `run` does the work, `undo` reverses it given what `run` returned. */
export interface CompensableStep<T> {
  /** Names the step in error messages. */
  name?: string;
  /** Does the work. */
  run: Step<T>;
  /** Reverses the work; its signal is a fresh one, so an aborted saga can still clean up. */
  undo: (result: T, signal: AbortSignal) => Promise<void>;
}

/** A failed saga: `cause` is why it failed, `undoErrors` the failures of its undo steps, in undo order. */
export class CompensationError extends Error {
  readonly name = 'CompensationError';
  /** The failures of undo steps (each failure did not stop the other undos). */
  readonly undoErrors: readonly unknown[];

  constructor(cause: unknown, undoErrors: readonly unknown[], message = 'Saga failed and was compensated') {
    super(message, { cause });
    this.undoErrors = undoErrors;
  }
}

/**
 * Runs saga steps in order; on a failure, undoes the completed ones in reverse, then rejects. Steps may have
 * results of different types: each `undo` gets its own step's, and the results are typed position for position.
 */
export function compensate<const R extends readonly unknown[]>(
  steps: {
    readonly [K in keyof R]: CompensableStep<R[K]>;
  },
): Step<{ -readonly [K in keyof R]: R[K] }>;
export function compensate(steps: readonly CompensableStep<unknown>[]): Step<unknown[]> {
  return async (signal) => {
    signal.throwIfAborted();
    const results: unknown[] = [];
    try {
      for (const step of steps) {
        signal.throwIfAborted();
        results.push(await step.run(signal));
      }
      return results;
    } catch (error) {
      const cause = signal.aborted ? signal.reason : error;
      const failedAt = results.length;
      // Undo must run to completion even when the caller's signal is what stopped the saga.
      const undoSignal = new AbortController().signal;
      const undoErrors: unknown[] = [];
      for (let i = failedAt - 1; i >= 0; i--) {
        try {
          await steps[i].undo(results[i], undoSignal);
        } catch (undoError) {
          undoErrors.push(undoError);
        }
      }
      const label = steps[failedAt]?.name ? `"${steps[failedAt].name}"` : `#${failedAt + 1}`;
      const outcome = undoErrors.length ? `, ${undoErrors.length} of them failed` : '';
      throw new CompensationError(
        cause,
        undoErrors,
        `Saga step ${label} failed; undid ${failedAt} completed step(s)${outcome}`,
      );
    }
  };
}
