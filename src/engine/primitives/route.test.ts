import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouteError, route } from './route.ts';
import type { Step } from './step.ts';

const never = new AbortController().signal;

const routes = { linux: async () => 'apt', darwin: async () => 'brew' };

for (const [key, fallback, expected] of [
  ['linux', undefined, 'apt'],
  ['darwin', undefined, 'brew'],
  ['win32', async () => 'choco', 'choco'],
  ['linux', async () => 'choco', 'apt'],
] as [string, Step<string> | undefined, string][]) {
  test(`route ${key}${fallback ? ' with fallback' : ''} → ${expected}`, async () => {
    assert.equal(await route(async () => key, routes, fallback)(never), expected);
  });
}

for (const key of ['win32', 'toString', 'constructor']) {
  test(`route rejects an unknown key (${key}) without a fallback with a RouteError`, async () => {
    await assert.rejects(route(() => key, routes)(never), (e) => {
      assert.ok(e instanceof RouteError);
      assert.equal(e.key, key);
      assert.equal(e.name, 'RouteError');
      return true;
    });
  });
}

test('route does not start the step if the signal aborted while select ran', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  let ran = false;
  const select = async () => {
    controller.abort(reason);
    return 'a';
  };
  const step = route(select, {
    a: async () => {
      ran = true;
    },
  });
  await assert.rejects(step(controller.signal), (e) => e === reason);
  assert.equal(ran, false);
});

test('routes with different results give a step of their union', async () => {
  const count: Step<number> = async () => 1;
  const name: Step<string> = async () => 'one';
  const step = route(() => 'name', { count, name });
  const result: number | string = await step(new AbortController().signal);
  assert.equal(result, 'one');
  const withFallback = route(
    () => 'x',
    { count, name },
    async () => true,
  );
  const fallen: number | string | boolean = await withFallback(new AbortController().signal);
  assert.equal(fallen, true);
});
