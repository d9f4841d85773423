import type { Step } from './step.ts';

/** Where {@link cache} keeps results; `get` resolving to `undefined` is a miss. */
export interface CacheStore<T> {
  /** The value stored under `key`, or undefined. */
  get(key: string): Promise<T | undefined>;
  /** Stores `value` under `key`. */
  set(key: string, value: T): Promise<void>;
}

/** Options for {@link cache} and {@link cached}. */
export interface CacheOptions<T> {
  /** The cache key, or a function computing it when the step runs. */
  key: string | (() => string | Promise<string>);
  /** Where results live. */
  store: CacheStore<T>;
}

// A run of the step that callers with the same key share: it is aborted only when every one of them has aborted.
interface InFlight<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

// Waits for a shared run. When this caller aborts it leaves at once, unless it is the last one waiting: then the
// run is aborted, and the caller rejects with its reason once the step has stopped.
function join<T>(run: InFlight<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  run.waiters++;
  return new Promise<T>((resolve, reject) => {
    let left = false;
    const onAbort = () => {
      left = true;
      if (--run.waiters > 0) return reject(signal.reason);
      run.controller.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (ok: boolean, outcome: unknown) => {
      signal.removeEventListener('abort', onAbort);
      if (!left) run.waiters--;
      if (signal.aborted) reject(signal.reason);
      else if (ok) resolve(outcome as T);
      else reject(outcome);
    };
    run.promise.then(
      (value) => settle(true, value),
      (error) => settle(false, error),
    );
  });
}

/**
 * Like {@link cache}, but also tells whether the value came from the store. Concurrent calls with the same key
 * share one run of the step (the later ones report `hit: true`: they did not run it); a failure is not stored.
 */
export function cached<T>(step: Step<T>, options: CacheOptions<T>): Step<{ value: T; hit: boolean }> {
  const { key, store } = options;
  const inFlight = new Map<string, InFlight<T>>();
  const start = (k: string): InFlight<T> => {
    const controller = new AbortController();
    const run: InFlight<T> = { controller, waiters: 0, promise: Promise.resolve() as Promise<T> };
    const forget = () => {
      if (inFlight.get(k) === run) inFlight.delete(k);
    };
    // An aborted run is not shared any more: a caller that comes later starts its own.
    controller.signal.addEventListener('abort', forget, { once: true });
    inFlight.set(k, run);
    run.promise = (async () => {
      try {
        const value = await step(controller.signal);
        await store.set(k, value);
        return value;
      } finally {
        forget();
      }
    })();
    return run;
  };
  return async (signal) => {
    signal.throwIfAborted();
    const k = typeof key === 'string' ? key : await key();
    const running = inFlight.get(k);
    if (running) return { value: await join(running, signal), hit: true };
    const stored = await store.get(k);
    if (stored !== undefined) return { value: stored, hit: true };
    signal.throwIfAborted();
    // Another call may have started the step while the store was read.
    const started = inFlight.get(k);
    if (started) return { value: await join(started, signal), hit: true };
    return { value: await join(start(k), signal), hit: false };
  };
}

const valueOfResult = <T>(result: { value: T }): T => result.value;

/** Returns the stored result for the key without running the step, or runs it and stores the result. */
export function cache<T>(step: Step<T>, options: CacheOptions<T>): Step<T> {
  const run = cached(step, options);
  return (signal) => run(signal).then(valueOfResult);
}

/** An in-process {@link CacheStore} backed by a Map (undefined values cannot be cached). */
export function memoryCache<T>(): CacheStore<T> {
  const entries = new Map<string, T>();
  return {
    get: (key) => Promise.resolve(entries.get(key)),
    set: (key, value) => {
      entries.set(key, value);
      return Promise.resolve();
    },
  };
}
