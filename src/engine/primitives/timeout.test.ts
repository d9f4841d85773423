import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Step } from './step.ts';
import { TimeoutError, timeout } from './timeout.ts';

const never = new AbortController().signal;
const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** A step that waits for its signal to abort, handing the signal out through `seen`. */
function waitsForAbort(seen: AbortSignal[]): Step<never> {
  return (signal) => {
    seen.push(signal);
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  };
}

test('timeout aborts the inner step with a TimeoutError and rejects with that same error', async () => {
  const seen: AbortSignal[] = [];
  const run = timeout(waitsForAbort(seen), 5);
  await assert.rejects(run(never), (e) => {
    assert.ok(e instanceof TimeoutError);
    assert.equal(e.name, 'TimeoutError');
    assert.equal(e.timeoutMs, 5);
    assert.equal(e.message, 'Timed out after 5 ms');
    assert.ok(seen[0].aborted);
    assert.equal(seen[0].reason, e);
    return true;
  });
});

test('timeout uses the given message and reports the TimeoutError even if the step throws another', async () => {
  const step: Step<never> = (signal) =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('killed'))));
  await assert.rejects(timeout(step, 2, { message: 'build took too long' })(never), {
    name: 'TimeoutError',
    message: 'build took too long',
  });
});

test('a step that settles in time keeps its outcome, and the timer is cleared', async () => {
  const before = activeTimers();
  const seen: AbortSignal[] = [];
  const fast: Step<number> = async (signal) => {
    seen.push(signal);
    return 42;
  };
  assert.equal(await timeout(fast, 60_000)(never), 42);
  assert.equal(activeTimers(), before);
  assert.equal(seen[0].aborted, false);

  const boom = new Error('boom');
  await assert.rejects(
    timeout(async () => {
      throw boom;
    }, 60_000)(never),
    (e) => e === boom,
  );
  assert.equal(activeTimers(), before);
});

test('an outer abort reaches the inner step and wins over the timeout', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const seen: AbortSignal[] = [];
  const before = activeTimers();
  const run = timeout(waitsForAbort(seen), 60_000)(controller.signal);
  setImmediate(() => controller.abort(reason));
  await assert.rejects(run, (e) => e === reason);
  assert.equal(seen[0].reason, reason);
  assert.equal(activeTimers(), before);
});

test('a limit beyond what a timer can hold means no limit, and a negative one is refused', async () => {
  const step: Step<string> = async () => 'done';
  assert.equal(timeout(step, Number.POSITIVE_INFINITY), step);
  assert.throws(() => timeout(step, -1), RangeError);
});

test('a step that ignores its signal is cut off at the deadline, and its signal stays aborted', async () => {
  const seen: AbortSignal[] = [];
  let finished = false;
  const stubborn: Step<string> = async (signal) => {
    seen.push(signal);
    await new Promise((resolve) => setTimeout(resolve, 400));
    finished = true;
    return 'done';
  };
  const started = performance.now();
  await assert.rejects(timeout(stubborn, 50)(never), (e) => e instanceof TimeoutError && e.timeoutMs === 50);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 45 && elapsed < 300, `rejected after ${elapsed} ms`);
  assert.equal(finished, false);
  assert.ok(seen[0].aborted);
  assert.ok(seen[0].reason instanceof TimeoutError);
});

test('a caller abort rejects at once even if the step ignores it', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const stubborn: Step<string> = () => new Promise((resolve) => setTimeout(() => resolve('done'), 400));
  const run = timeout(stubborn, 60_000)(controller.signal);
  setTimeout(() => controller.abort(reason), 20);
  const started = performance.now();
  await assert.rejects(run, (e) => e === reason);
  assert.ok(performance.now() - started < 300);
});

test('with waitForStep the timeout waits for the aborted step to settle, then rejects with the TimeoutError', async () => {
  let cleanedUp = false;
  const slowCleanup: Step<never> = (signal) =>
    new Promise((_, reject) =>
      signal.addEventListener('abort', () =>
        setTimeout(() => {
          cleanedUp = true;
          reject(new Error('stopped'));
        }, 60),
      ),
    );
  await assert.rejects(timeout(slowCleanup, 10, { waitForStep: true })(never), TimeoutError);
  assert.equal(cleanedUp, true);
});
