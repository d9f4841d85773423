import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sequence } from './sequence.ts';
import type { Step } from './step.ts';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('sequence runs steps one after the other and resolves with their results in order', async () => {
  const log: string[] = [];
  const step =
    <T>(name: string, value: T): Step<T> =>
    async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      return value;
    };
  const results: [number, string, boolean] = await sequence([
    step('a', 1),
    step('b', 'two'),
    step('c', true),
  ])(new AbortController().signal);
  assert.deepEqual(results, [1, 'two', true]);
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('sequence stops at the first failure and rejects with it', async () => {
  const boom = new Error('boom');
  const ran: number[] = [];
  const steps: Step<number>[] = [0, 1, 2].map((i) => async () => {
    ran.push(i);
    if (i === 1) throw boom;
    return i;
  });
  await assert.rejects(sequence(steps)(new AbortController().signal), (e) => e === boom);
  assert.deepEqual(ran, [0, 1]);
});

test('sequence of no steps resolves with an empty list', async () => {
  assert.deepEqual(await sequence([])(new AbortController().signal), []);
});

test('an abort mid-way stops starting steps and rejects with the reason, whatever the step threw', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const ran: number[] = [];
  const steps: Step<number>[] = [
    async () => {
      ran.push(0);
      controller.abort(reason);
      return 0;
    },
    async () => {
      ran.push(1);
      return 1;
    },
  ];
  await assert.rejects(sequence(steps)(controller.signal), (e) => e === reason);
  assert.deepEqual(ran, [0]);

  const other = new AbortController();
  const sloppy: Step<number> = async () => {
    other.abort(reason);
    throw new Error('stopped');
  };
  await assert.rejects(sequence([sloppy])(other.signal), (e) => e === reason);
});
