import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CacheStore, cache, cached, memoryCache } from './cache.ts';
import type { Step } from './step.ts';

const never = new AbortController().signal;

function counting<T>(value: T) {
  const state = { calls: 0 };
  const step: Step<T> = async () => {
    state.calls++;
    return value;
  };
  return { step, state };
}

test('cache runs the step on a miss, stores the result, and returns it without running on a hit', async () => {
  const store = memoryCache<{ n: number }>();
  const { step, state } = counting({ n: 1 });
  const run = cache(step, { key: 'k', store });
  const first = await run(never);
  const second = await run(never);
  assert.deepEqual(first, { n: 1 });
  assert.equal(second, first);
  assert.equal(state.calls, 1);
  assert.deepEqual(await store.get('k'), { n: 1 });
});

test('cached tells hits from misses, keys apart, and computes a key function on each run', async () => {
  const store = memoryCache<string>();
  const { step, state } = counting('v');
  let key = 'a';
  const run = cached(step, { key: async () => key, store });
  const outcomes = [];
  for (const k of ['a', 'a', 'b', 'a', 'b']) {
    key = k;
    outcomes.push((await run(never)).hit);
  }
  assert.deepEqual(outcomes, [false, true, false, true, true]);
  assert.equal(state.calls, 2);
});

test('a failure is not cached: the next run tries again', async () => {
  const store = memoryCache<number>();
  let calls = 0;
  const step: Step<number> = async () => {
    calls++;
    if (calls === 1) throw new Error('boom');
    return calls;
  };
  const run = cached(step, { key: 'k', store });
  await assert.rejects(run(never), { message: 'boom' });
  assert.deepEqual(await run(never), { value: 2, hit: false });
  assert.deepEqual(await run(never), { value: 2, hit: true });
});

test('cache works with any store implementing get and set', async () => {
  const calls: string[] = [];
  const store: CacheStore<number> = {
    get: async (key) => {
      calls.push(`get ${key}`);
      return key === 'warm' ? 7 : undefined;
    },
    set: async (key, value) => void calls.push(`set ${key}=${value}`),
  };
  assert.equal(await cache(counting(1).step, { key: 'warm', store })(never), 7);
  assert.equal(await cache(counting(2).step, { key: 'cold', store })(never), 2);
  assert.deepEqual(calls, ['get warm', 'get cold', 'set cold=2']);
});

test('an abort while the store is read stops the step from starting', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const store: CacheStore<number> = {
    get: async () => {
      controller.abort(reason);
      return undefined;
    },
    set: async () => {},
  };
  const { step, state } = counting(1);
  await assert.rejects(cache(step, { key: 'k', store })(controller.signal), (e) => e === reason);
  assert.equal(state.calls, 0);
});
