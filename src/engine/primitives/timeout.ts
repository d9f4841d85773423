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
  /**
   * After the deadline (or the caller's abort), wait for the aborted step to settle before rejecting, for a step
   * whose cleanup must finish first, like stopping a process group (default false: reject at once).
   */
  waitForStep?: boolean;
}

/**
 * Limits a step to `ms` milliseconds: at the deadline it aborts the step's signal and rejects with a
 * {@link TimeoutError}, whether or not the step has stopped yet (unless `waitForStep`). A caller's abort
 * likewise rejects at once with its reason. A step that ignores its signal keeps running, unobserved.
 */
export function timeout<T>(step: Step<T>, ms: number, options: TimeoutOptions = {}): Step<T> {
  if (!(ms >= 0)) throw new RangeError(`timeout must be at least 0 ms, got ${ms}`);
  if (ms > MAX_TIMER_MS) return step;
  const { message, waitForStep = false } = options;
  return async (signal) => {
    signal.throwIfAborted();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new TimeoutError(ms, message)), ms);
    const inner = AbortSignal.any([signal, deadline.signal]);
    let stopWaiting = () => {};
    try {
      const running = step(inner);
      if (waitForStep) return await running;
      // The step's own outcome after the abort is of no interest, but must not become an unhandled rejection.
      running.catch(() => {});
      const aborted = new Promise<never>((_, reject) => {
        if (inner.aborted) return reject(inner.reason);
        const onAbort = () => reject(inner.reason);
        inner.addEventListener('abort', onAbort, { once: true });
        stopWaiting = () => inner.removeEventListener('abort', onAbort);
      });
      return await Promise.race([running, aborted]);
    } catch (error) {
      // inner.reason is whichever came first: the caller's abort or our TimeoutError.
      throw inner.aborted ? inner.reason : error;
    } finally {
      stopWaiting();
      clearTimeout(timer);
    }
  };
}
