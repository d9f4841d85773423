import { sleep } from './sleep.ts';
import type { Step } from './step.ts';

/** How retry delays grow: `min(maxDelayMs, baseDelayMs * factor ** attempt)`, then optionally jittered. */
export interface BackoffOptions {
  /** The delay after the first failed attempt, before jitter (default 100). */
  baseDelayMs?: number;
  /** The cap on any delay, before jitter (default 30 000). */
  maxDelayMs?: number;
  /** How much each delay grows over the previous one (default 2). */
  factor?: number;
  /** `'full'` (default) waits a random time in [0, delay], AWS style; `'none'` waits the delay. */
  jitter?: 'full' | 'none';
  /** The source of randomness for jitter, returning [0, 1) (default Math.random). */
  random?: () => number;
}

/** What {@link RetryOptions.onRetry} is told before each backoff sleep. */
export interface RetryEvent {
  /** The zero-based number of the attempt that just failed. */
  attempt: number;
  /** How long retry will now wait before the next attempt. */
  delayMs: number;
  /** What the failed attempt threw. */
  error: unknown;
}

/** Options for {@link retry}. */
export interface RetryOptions extends BackoffOptions {
  /** How many times to retry after the first attempt (0 = never; Infinity = until success or abort). */
  retries: number;
  /** Whether a failure is worth retrying, given it and the zero-based number of the failed attempt. */
  retryable?: (error: unknown, attempt: number) => boolean;
  /** Called before each backoff sleep. */
  onRetry?: (event: RetryEvent) => void;
  /** Waits between attempts (default {@link sleep}); must reject with `signal.reason` on abort. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The delay before the retry that follows failed attempt number `attempt` (zero-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const {
    baseDelayMs = 100,
    maxDelayMs = 30_000,
    factor = 2,
    jitter = 'full',
    random = Math.random,
  } = options;
  // Capping the growth before multiplying keeps a zero base at zero once factor ** attempt overflows.
  const delay = Math.min(maxDelayMs, baseDelayMs * Math.min(factor ** attempt, Number.MAX_VALUE));
  return jitter === 'full' ? random() * delay : delay;
}

/** Retries a failing step with exponential backoff; never retries once its signal has aborted. */
export function retry<T>(step: Step<T>, options: RetryOptions): Step<T> {
  const { retries, retryable, onRetry, sleep: wait = sleep } = options;
  if (!(retries >= 0)) throw new RangeError(`retries must be at least 0, got ${retries}`);
  // A NaN or negative delay would retry at once, a hot loop with retries: Infinity.
  for (const name of ['baseDelayMs', 'maxDelayMs', 'factor'] as const) {
    const value = options[name];
    if (value !== undefined && !(value >= 0))
      throw new RangeError(`${name} must be at least 0, got ${value}`);
  }
  if (options.jitter !== undefined && options.jitter !== 'full' && options.jitter !== 'none') {
    throw new RangeError(`jitter must be 'full' or 'none', got ${String(options.jitter)}`);
  }
  return async (signal) => {
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted();
      try {
        return await step(signal);
      } catch (error) {
        // A failure caused by the abort is the abort, whatever the step threw.
        if (signal.aborted) throw signal.reason;
        if (attempt >= retries || (retryable && !retryable(error, attempt))) throw error;
        const delayMs = backoffDelay(attempt, options);
        onRetry?.({ attempt, delayMs, error });
        await wait(delayMs, signal);
      }
    }
  };
}
