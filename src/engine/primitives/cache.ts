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

/** Like {@link cache}, but also tells whether the value came from the store. */
export function cached<T>(step: Step<T>, options: CacheOptions<T>): Step<{ value: T; hit: boolean }> {
  const { key, store } = options;
  return async (signal) => {
    signal.throwIfAborted();
    const k = typeof key === 'string' ? key : await key();
    const stored = await store.get(k);
    if (stored !== undefined) return { value: stored, hit: true };
    signal.throwIfAborted();
    const value = await step(signal);
    await store.set(k, value);
    return { value, hit: false };
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
