import type { Step } from './step.ts';

// Node fires longer timers after 1 ms (with a warning), so a limit beyond this is no limit at all.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The error a {@link timeout} step aborts its inner step with, and rejects with, when time runs out. */
export class TimeoutError extends Error {
  readonly name = 'TimeoutError';
  /** The limit that was exceeded. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, message = `Timed out after ${timeoutMs} ms`) {
    super(message);
    this.timeoutMs = timeoutMs;
  }
}

/** Options for {@link timeout}. */
export interface TimeoutOptions {
  /** The TimeoutError's message (default "Timed out after <ms> ms"). */
  message?: string;
}

/** Limits a step to `ms` milliseconds, then aborts it and rejects with a {@link TimeoutError}. */
export function timeout<T>(step: Step<T>, ms: number, options: TimeoutOptions = {}): Step<T> {
  if (!(ms >= 0)) throw new RangeError(`timeout must be at least 0 ms, got ${ms}`);
  if (ms > MAX_TIMER_MS) return step;
  const { message } = options;
  return async (signal) => {
    signal.throwIfAborted();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new TimeoutError(ms, message)), ms);
    const inner = AbortSignal.any([signal, deadline.signal]);
    try {
      return await step(inner);
    } catch (error) {
      // inner.reason is whichever came first: the caller's abort or our TimeoutError.
      throw inner.aborted ? inner.reason : error;
    } finally {
      clearTimeout(timer);
    }
  };
}
