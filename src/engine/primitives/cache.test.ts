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

/** A step that counts its runs and resolves (or rejects) when told to, with the signals it was given. */
function controlled<T>() {
  const state = { calls: 0, signals: [] as AbortSignal[], settle: [] as ((outcome: T | Error) => void)[] };
  const step: Step<T> = (signal) => {
    state.calls++;
    state.signals.push(signal);
    return new Promise<T>((resolve, reject) =>
      state.settle.push((outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome))),
    );
  };
  return { step, state };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('concurrent calls with the same key share one run of the step', { timeout: 5000 }, async () => {
  const store = memoryCache<string>();
  const { step, state } = controlled<string>();
  const run = cached(step, { key: 'k', store });
  const a = run(never);
  const b = run(never);
  await tick();
  assert.equal(state.calls, 1);
  state.settle[0]('v');
  assert.deepEqual(await Promise.all([a, b]), [
    { value: 'v', hit: false },
    { value: 'v', hit: true },
  ]);
  assert.equal(state.calls, 1);
  assert.equal(await store.get('k'), 'v');
  const other = cached(step, { key: async () => 'other', store });
  const c = other(never);
  const d = cache(step, { key: 'k', store })(never);
  await tick();
  assert.equal(state.calls, 2, 'another key runs the step; a stored key does not');
  state.settle[1]('w');
  assert.deepEqual([await c, await d], [{ value: 'w', hit: false }, 'v']);
});

test('a shared failure reaches every caller and is not cached', { timeout: 5000 }, async () => {
  const store = memoryCache<string>();
  const { step, state } = controlled<string>();
  const run = cache(step, { key: 'k', store });
  const a = run(never);
  const b = run(never);
  await tick();
  state.settle[0](new Error('boom'));
  await assert.rejects(a, { message: 'boom' });
  await assert.rejects(b, { message: 'boom' });
  assert.equal(await store.get('k'), undefined);
  const again = run(never);
  await tick();
  assert.equal(state.calls, 2);
  state.settle[1]('ok');
  assert.equal(await again, 'ok');
});

test('one caller aborting leaves the shared run to the others; the last one aborts it', {
  timeout: 5000,
}, async () => {
  const store = memoryCache<string>();
  const { step, state } = controlled<string>();
  const run = cache(step, { key: 'k', store });
  const first = new AbortController();
  const second = new AbortController();
  const a = run(first.signal);
  const b = run(second.signal);
  await tick();
  const reason = new Error('first gave up');
  first.abort(reason);
  await assert.rejects(a, (e) => e === reason);
  assert.equal(state.signals[0].aborted, false);
  const last = new Error('second gave up');
  second.abort(last);
  assert.equal(state.signals[0].aborted, true);
  assert.equal(state.signals[0].reason, last);
  state.settle[0](new Error('stopped'));
  await assert.rejects(b, (e) => e === last);
  // An aborted run is not shared with a later caller.
  const c = run(never);
  await tick();
  assert.equal(state.calls, 2);
  state.settle[1]('fresh');
  assert.equal(await c, 'fresh');
});
