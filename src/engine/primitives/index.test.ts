import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as primitives from 'devopsmaestro/primitives';
import {
  cache,
  cached,
  compensate,
  memoryCache,
  observe,
  parallel,
  retry,
  route,
  type Step,
  sequence,
  timeout,
  when,
} from './index.ts';

test('the package exports the primitives under devopsmaestro/primitives', () => {
  assert.equal(primitives.retry, retry);
  assert.deepEqual(Object.keys(primitives).sort(), [
    'CompensationError',
    'RouteError',
    'TimeoutError',
    'backoffDelay',
    'cache',
    'cached',
    'compensate',
    'createEventBus',
    'memoryCache',
    'observe',
    'parallel',
    'retry',
    'route',
    'sequence',
    'sleep',
    'timeout',
    'when',
  ]);
});

// `touch` marks any caller code (predicates, selectors, key functions, emitters) as having run.
const wrappers = [
  ['sequence', (s) => sequence([s])],
  ['parallel', (s) => parallel([s])],
  ['parallel without failFast', (s) => parallel([s], { failFast: false })],
  ['retry', (s, touch) => retry(s, { retries: 3, retryable: () => touch() })],
  ['timeout', (s) => timeout(s, 1000)],
  ['cache', (s, touch) => cache(s, { key: () => String(touch()), store: memoryCache() })],
  ['cached', (s, touch) => cached(s, { key: () => String(touch()), store: memoryCache() })],
  ['compensate', (s, touch) => compensate([{ run: s, undo: async () => void touch() }])],
  ['when', (s, touch) => when(() => touch(), s)],
  ['route', (s, touch) => route(() => String(touch()), { true: s })],
  ['observe', (s, touch) => observe(s, { name: 'x', emit: () => touch() })],
] as [string, (step: Step<unknown>, touch: () => true) => Step<unknown>][];

for (const [name, wrap] of wrappers) {
  test(`${name} started with an aborted signal rejects at once with its reason and runs nothing`, async () => {
    const reason = new Error('cancelled');
    const ran: string[] = [];
    const step: Step<unknown> = async () => {
      ran.push('step');
    };
    const touch = () => {
      ran.push('callback');
      return true as const;
    };
    await assert.rejects(wrap(step, touch)(AbortSignal.abort(reason)), (e) => e === reason);
    assert.deepEqual(ran, []);
  });
}

for (const [name, wrap] of wrappers) {
  test(`${name} reports a failure of its step after an abort as the abort's reason`, async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    // A step that stops on abort, but throws something of its own, as a killed process might.
    const step: Step<unknown> = (signal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('killed'))));
    const running = wrap(step, () => true)(controller.signal);
    setImmediate(() => controller.abort(reason));
    // A saga reports why it failed as the cause of its CompensationError.
    await assert.rejects(running, (e) => (name === 'compensate' ? (e as Error).cause : e) === reason);
  });
}
