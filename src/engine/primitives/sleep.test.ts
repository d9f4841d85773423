import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from './sleep.ts';

const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('sleep resolves after the given time', async () => {
  const started = performance.now();
  await sleep(10, new AbortController().signal);
  assert.ok(performance.now() - started >= 9);
});

test('sleep with an aborted signal rejects at once with its reason, setting no timer', async () => {
  const reason = new Error('cancelled');
  const before = activeTimers();
  const slept = sleep(60_000, AbortSignal.abort(reason));
  assert.equal(activeTimers(), before);
  await assert.rejects(slept, (e) => e === reason);
});

test('an abort during sleep rejects with its reason and clears the timer', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const before = activeTimers();
  const slept = sleep(60_000, controller.signal);
  assert.equal(activeTimers(), before + 1);
  setImmediate(() => controller.abort(reason));
  await assert.rejects(slept, (e) => e === reason);
  assert.equal(activeTimers(), before);
});

test('a zero sleep sets no timer', async () => {
  const before = activeTimers();
  const slept = sleep(0);
  assert.equal(activeTimers(), before);
  await slept;
});

test('a sleep longer than the largest timer (about 24.8 days) does not end after 1 ms', async () => {
  const controller = new AbortController();
  const reason = new Error('stop');
  let settled = false;
  const slept = sleep(2 ** 31 + 1000, controller.signal).then(
    () => (settled = true),
    (error) => {
      settled = true;
      throw error;
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(settled, false);
  controller.abort(reason);
  await assert.rejects(slept, (e) => e === reason);
});
