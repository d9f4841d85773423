import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BackoffOptions, backoffDelay, type RetryEvent, retry } from './retry.ts';
import type { Step } from './step.ts';

const never = new AbortController().signal;

/** A step that fails `failures` times, then resolves with 'ok'; `calls` counts attempts. */
function flaky(failures: number, error: (n: number) => unknown = (n) => new Error(`fail ${n}`)) {
  const state = { calls: 0 };
  const step: Step<string> = async () => {
    state.calls++;
    if (state.calls <= failures) throw error(state.calls);
    return 'ok';
  };
  return { step, state };
}

/** Records requested sleeps instead of waiting. */
function fakeSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

for (const [options, expected] of [
  [{ jitter: 'none' }, [100, 200, 400, 800, 1600]],
  [{ jitter: 'none', baseDelayMs: 10, factor: 3 }, [10, 30, 90, 270, 810]],
  [{ jitter: 'none', baseDelayMs: 100, maxDelayMs: 300 }, [100, 200, 300, 300, 300]],
  [{ jitter: 'full', random: () => 0.5 }, [50, 100, 200, 400, 800]],
  [{ jitter: 'full', random: () => 0 }, [0, 0, 0, 0, 0]],
  [{ random: () => 0.25, maxDelayMs: 200 }, [25, 50, 50, 50, 50]],
] as [BackoffOptions, number[]][]) {
  test(`backoffDelay ${JSON.stringify(options)} → ${expected}`, () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options)),
      expected,
    );
  });
}

test('backoffDelay stays capped (and a zero base stays zero) when the growth overflows', () => {
  assert.equal(backoffDelay(5000, { jitter: 'none' }), 30_000);
  assert.equal(backoffDelay(5000, { jitter: 'none', baseDelayMs: 0 }), 0);
});

test('retry waits the backoff delays between attempts (jitter none) and reports each retry first', async () => {
  const { step, state } = flaky(3);
  const { delays, sleep } = fakeSleep();
  const events: RetryEvent[] = [];
  const value = await retry(step, {
    retries: 5,
    jitter: 'none',
    sleep,
    onRetry: (event) => {
      // onRetry runs before the sleep it announces.
      assert.equal(delays.length, event.attempt);
      events.push(event);
    },
  })(never);
  assert.equal(value, 'ok');
  assert.equal(state.calls, 4);
  assert.deepEqual(delays, [100, 200, 400]);
  assert.deepEqual(
    events.map(({ attempt, delayMs, error }) => [attempt, delayMs, (error as Error).message]),
    [
      [0, 100, 'fail 1'],
      [1, 200, 'fail 2'],
      [2, 400, 'fail 3'],
    ],
  );
});

test('retry applies full jitter with the injected random source', async () => {
  const randoms = [0.5, 0.1, 1];
  const { step } = flaky(3);
  const { delays, sleep } = fakeSleep();
  await retry(step, { retries: 3, baseDelayMs: 1000, random: () => randoms.shift() ?? 0, sleep })(never);
  assert.deepEqual(delays, [500, 200, 4000]);
});

test('retry gives up after `retries` retries and rejects with the last error', async () => {
  const { step, state } = flaky(10);
  const { delays, sleep } = fakeSleep();
  await assert.rejects(retry(step, { retries: 2, sleep })(never), { message: 'fail 3' });
  assert.equal(state.calls, 3);
  assert.equal(delays.length, 2);
  const once = flaky(10);
  await assert.rejects(retry(once.step, { retries: 0, sleep })(never), { message: 'fail 1' });
  assert.equal(once.state.calls, 1);
});

test('the retryable predicate stops retries and is told the error and the attempt number', async () => {
  const fatal = new Error('fatal');
  const { step, state } = flaky(10, (n) => (n === 3 ? fatal : new Error('transient')));
  const { sleep } = fakeSleep();
  const asked: [string, number][] = [];
  const run = retry(step, {
    retries: 10,
    sleep,
    retryable: (error, attempt) => {
      asked.push([(error as Error).message, attempt]);
      return error !== fatal;
    },
  });
  await assert.rejects(run(never), (e) => e === fatal);
  assert.equal(state.calls, 3);
  assert.deepEqual(asked, [
    ['transient', 0],
    ['transient', 1],
    ['fatal', 2],
  ]);
});

test('an abort during the backoff sleep rejects at once with the reason and clears the timer', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const { step, state } = flaky(10);
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const started = performance.now();
  const run = retry(step, {
    retries: 5,
    baseDelayMs: 60_000,
    jitter: 'none',
    onRetry: () => setImmediate(() => controller.abort(reason)),
  })(controller.signal);
  await assert.rejects(run, (e) => e === reason);
  assert.ok(performance.now() - started < 1000);
  assert.equal(state.calls, 1);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore);
});

test('retry never retries an abort, even when the step throws something else', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  let calls = 0;
  const step: Step<never> = async () => {
    calls++;
    controller.abort(reason);
    throw new Error('interrupted');
  };
  const { sleep, delays } = fakeSleep();
  await assert.rejects(retry(step, { retries: 5, sleep })(controller.signal), (e) => e === reason);
  assert.equal(calls, 1);
  assert.deepEqual(delays, []);
});

test('a negative retry count is refused up front', () => {
  assert.throws(() => retry(flaky(0).step, { retries: -1 }), RangeError);
});

for (const [option, value] of [
  ['baseDelayMs', Number.NaN],
  ['baseDelayMs', -1],
  ['maxDelayMs', Number.NaN],
  ['maxDelayMs', -100],
  ['factor', Number.NaN],
  ['factor', -2],
  ['jitter', 'equal'],
] as const) {
  test(`retry refuses ${option}: ${value} with a RangeError instead of retrying at once`, () => {
    assert.throws(() => retry(async () => 1, { retries: 3, [option]: value }), RangeError);
  });
}
