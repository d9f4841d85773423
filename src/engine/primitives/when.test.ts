import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Step } from './step.ts';
import { type Predicate, when } from './when.ts';

const never = new AbortController().signal;
const yes: Step<string> = async () => 'yes';
const no: Step<number> = async () => 0;

for (const [label, predicate, otherwise, expected] of [
  ['true', () => true, undefined, 'yes'],
  ['false', () => false, undefined, undefined],
  ['async true', async () => true, undefined, 'yes'],
  ['async false', async () => false, undefined, undefined],
  ['false with otherwise', () => false, no, 0],
  ['true with otherwise', () => true, no, 'yes'],
] as [string, Predicate, Step<number> | undefined, unknown][]) {
  test(`when ${label} → ${expected}`, async () => {
    const step = otherwise ? when(predicate, yes, otherwise) : when(predicate, yes);
    assert.equal(await step(never), expected);
  });
}

test('when does not start the step if the signal aborted while the predicate ran', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  let ran = false;
  const step = when(
    async () => {
      controller.abort(reason);
      return true;
    },
    async () => {
      ran = true;
    },
  );
  await assert.rejects(step(controller.signal), (e) => e === reason);
  assert.equal(ran, false);
});
