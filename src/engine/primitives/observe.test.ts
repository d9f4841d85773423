import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observe, type StepEvent } from './observe.ts';
import type { Step } from './step.ts';

const never = new AbortController().signal;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('observe emits started then succeeded, with wall-clock times and a duration', async () => {
  const events: StepEvent[] = [];
  const step: Step<string> = async () => {
    assert.deepEqual(
      events.map((e) => e.type),
      ['step.started'],
    );
    await delay(5);
    return 'ok';
  };
  const before = Date.now();
  assert.equal(await observe(step, { name: 'build', emit: (e) => events.push(e) })(never), 'ok');
  const after = Date.now();
  assert.deepEqual(
    events.map((e) => [e.type, e.name]),
    [
      ['step.started', 'build'],
      ['step.succeeded', 'build'],
    ],
  );
  const [started, succeeded] = events;
  assert.ok(started.at >= before && started.at <= succeeded.at && succeeded.at <= after);
  assert.ok(succeeded.type === 'step.succeeded' && succeeded.durationMs >= 4 && succeeded.durationMs < 1000);
});

test('observe emits started then failed with the error, and rejects with it', async () => {
  const boom = new Error('boom');
  const events: StepEvent[] = [];
  const step: Step<never> = async () => {
    throw boom;
  };
  await assert.rejects(
    observe(step, { name: 'deploy', emit: (e) => events.push(e) })(never),
    (e) => e === boom,
  );
  assert.deepEqual(
    events.map((e) => e.type),
    ['step.started', 'step.failed'],
  );
  const failed = events[1];
  assert.ok(failed.type === 'step.failed');
  assert.equal(failed.error, boom);
  assert.equal(failed.name, 'deploy');
  assert.ok(failed.durationMs >= 0);
});
