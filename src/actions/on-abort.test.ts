import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchAbort } from './on-abort.ts';

test('every watcher of a signal is called once on abort, except those that stopped watching', () => {
  const controller = new AbortController();
  const calls: string[] = [];
  watchAbort(controller.signal, () => calls.push('a'));
  const stopB = watchAbort(controller.signal, () => calls.push('b'));
  watchAbort(controller.signal, () => calls.push('c'));
  stopB();
  controller.abort();
  controller.abort();
  assert.deepEqual(calls, ['a', 'c']);
});

test('watching a signal that already aborted calls back soon, unless stopped first', async () => {
  const signal = AbortSignal.abort();
  const calls: string[] = [];
  watchAbort(signal, () => calls.push('late'));
  watchAbort(signal, () => calls.push('stopped'))();
  assert.deepEqual(calls, []);
  await Promise.resolve();
  assert.deepEqual(calls, ['late']);
});
