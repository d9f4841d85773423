import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parallel } from './parallel.ts';
import type { Step } from './step.ts';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const never = new AbortController().signal;

/** A step that waits for its signal to abort, recording the reason it saw. */
function waitsForAbort(seen: unknown[], settled: string[], name: string): Step<never> {
  return (signal) =>
    new Promise((_, reject) => {
      signal.addEventListener('abort', () => {
        seen.push(signal.reason);
        // Settle a little later so the test can tell whether parallel waited for it.
        setImmediate(() => {
          settled.push(name);
          reject(signal.reason);
        });
      });
    });
}

test('parallel resolves with results in input order, not completion order', async () => {
  const steps: Step<number>[] = [3, 1, 2, 0].map((ticks, i) => async () => {
    for (let t = 0; t < ticks; t++) await tick();
    return i;
  });
  assert.deepEqual(await parallel(steps)(never), [0, 1, 2, 3]);
  const typed: [string, number] = await parallel([async () => 'a', async () => 1])(never);
  assert.deepEqual(typed, ['a', 1]);
});

for (const [concurrency, expected] of [
  [1, 1],
  [2, 2],
  [3, 3],
  [10, 6],
  [Number.POSITIVE_INFINITY, 6],
] as const) {
  for (const failFast of [true, false]) {
    test(`parallel keeps at most ${concurrency} steps in flight (failFast ${failFast})`, async () => {
      let inFlight = 0;
      let maxInFlight = 0;
      const steps: Step<number>[] = Array.from({ length: 6 }, (_, i) => async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await tick();
        await tick();
        inFlight--;
        return i;
      });
      assert.deepEqual(await parallel(steps, { concurrency, failFast })(never), [0, 1, 2, 3, 4, 5]);
      assert.equal(maxInFlight, expected);
    });
  }
}

test('an invalid concurrency is refused up front', () => {
  for (const concurrency of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => parallel([], { concurrency }), RangeError, String(concurrency));
  }
});

test('failFast aborts the siblings with the error and rejects with it once they have settled', async () => {
  const boom = new Error('boom');
  const seen: unknown[] = [];
  const settled: string[] = [];
  const failing: Step<never> = async () => {
    await tick();
    throw boom;
  };
  const started: number[] = [];
  const late: Step<number> = async () => {
    started.push(3);
    return 3;
  };
  const run = parallel(
    [waitsForAbort(seen, settled, 'a'), failing, waitsForAbort(seen, settled, 'b'), late],
    {
      concurrency: 3,
    },
  );
  await assert.rejects(run(never), (e) => e === boom);
  assert.deepEqual(seen, [boom, boom]);
  assert.deepEqual(settled.sort(), ['a', 'b']);
  assert.deepEqual(started, [], 'no new step starts after the failure');
});

test('without failFast every step runs and the failures come back as an AggregateError in input order', async () => {
  const errors = [new Error('first'), new Error('second')];
  const ran: number[] = [];
  const steps: Step<number>[] = [0, 1, 2, 3].map((i) => async () => {
    ran.push(i);
    // The later step fails sooner, so the order below is input order, not failure order.
    if (i === 1) for (let t = 0; t < 3; t++) await tick();
    if (i === 1) throw errors[0];
    if (i === 3) throw errors[1];
    return i;
  });
  await assert.rejects(parallel(steps, { failFast: false })(never), (e) => {
    assert.ok(e instanceof AggregateError);
    assert.deepEqual(e.errors, errors);
    return true;
  });
  assert.deepEqual(ran.sort(), [0, 1, 2, 3]);
});

for (const failFast of [true, false]) {
  test(`an outer abort stops new steps and rejects with its reason (failFast ${failFast})`, async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const seen: unknown[] = [];
    const settled: string[] = [];
    const started: number[] = [];
    const later: Step<number> = async () => {
      started.push(1);
      return 1;
    };
    // This one stops on the abort but throws an error of its own: the abort is still what is reported.
    const sloppy: Step<never> = (signal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('interrupted'))));
    const run = parallel([sloppy, waitsForAbort(seen, settled, 'a'), later], { concurrency: 2, failFast })(
      controller.signal,
    );
    setImmediate(() => controller.abort(reason));
    await assert.rejects(run, (e) => e === reason);
    assert.deepEqual(seen, [reason]);
    assert.deepEqual(started, []);
  });
}
