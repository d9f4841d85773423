import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type NodeOutcome, runDag } from './dag-runner.ts';

const nodes = (edges: Record<string, string[]>) =>
  Object.entries(edges).map(([name, dependsOn]) => ({ name, dependsOn }));

test('runs in dependency order, independent nodes together', async () => {
  //   lint   scan
  //      \   /
  //      test
  //        |
  //      build
  const started: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const outcomes = await runDag(nodes({ lint: [], scan: [], test: ['lint', 'scan'], build: ['test'] }), {
    run: async (n) => {
      started.push(n.name);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return 'succeeded';
    },
    skip: () => assert.fail('nothing is skipped'),
    stopped: () => false,
  });
  assert.deepEqual(started, ['lint', 'scan', 'test', 'build']);
  assert.equal(maxInFlight, 2);
  assert.deepEqual([...outcomes.values()], ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
});

test('a failure skips its dependents; fail-fast stops new starts; tolerated failures continue', async () => {
  //   a(fails) → b → c        d (independent, queued behind a)
  const skipped: string[] = [];
  const result = await runDag(nodes({ a: [], b: ['a'], c: ['b'], d: [] }), {
    run: async (n): Promise<NodeOutcome> => (n.name === 'a' ? 'failed' : 'succeeded'),
    skip: (n, why) => skipped.push(`${n.name}:${why}`),
    stopped: () => false,
  });
  assert.equal(result.get('a'), 'failed');
  assert.deepEqual(skipped.sort(), ['b:DependencyFailed', 'c:DependencyFailed']);
  // d was ready at the same time as a, so it started before a failed.
  assert.equal(result.get('d'), 'succeeded');

  const tolerant = await runDag(nodes({ a: [], b: ['a'] }), {
    run: async (n): Promise<NodeOutcome> => (n.name === 'a' ? 'tolerated' : 'succeeded'),
    skip: () => assert.fail('a tolerated failure skips nothing'),
    stopped: () => false,
  });
  assert.deepEqual([...tolerant.values()], ['tolerated', 'succeeded']);
});

test('fail-fast: nodes not started when a failure happens are skipped as FailFast', async () => {
  const skipped: string[] = [];
  const chained = await runDag(nodes({ a: [], b: ['x'], x: [] }), {
    run: async (n): Promise<NodeOutcome> => {
      if (n.name === 'x') await new Promise((r) => setTimeout(r, 10));
      return n.name === 'a' ? 'failed' : 'succeeded';
    },
    skip: (n, why) => skipped.push(`${n.name}:${why}`),
    stopped: () => false,
  });
  // x was running when a failed and finished; b became ready only after the failure, so fail-fast skipped it.
  assert.equal(chained.get('x'), 'succeeded');
  assert.ok(skipped.includes('b:FailFast'), skipped.join());
});

test('cancellation skips what has not started', async () => {
  let stop = false;
  const skipped: string[] = [];
  await runDag(nodes({ a: [], b: ['a'] }), {
    run: async () => {
      stop = true;
      return 'succeeded';
    },
    skip: (n, why) => skipped.push(`${n.name}:${why}`),
    stopped: () => stop,
  });
  assert.deepEqual(skipped, ['b:Cancelled']);
});

test('a node that frees its place lets the next start while it finishes, and the run waits for it', {
  timeout: 5000,
}, async () => {
  const events: string[] = [];
  let finishA!: () => void;
  const aDone = new Promise<void>((r) => {
    finishA = r;
  });
  const outcomes = await runDag(nodes({ a: [], b: [], c: ['a'] }), {
    limit: 1,
    run: async (n, free) => {
      events.push(`start ${n.name}`);
      if (n.name === 'a') {
        free(); // its command ended; recording it takes a while
        free(); // twice is once
        await aDone;
      }
      if (n.name === 'b') finishA();
      events.push(`end ${n.name}`);
      return 'succeeded';
    },
    skip: () => assert.fail('nothing is skipped'),
    stopped: () => false,
  });
  // b started before a ended (a had freed its place), c only after a ended (it depends on a).
  assert.deepEqual(events, ['start a', 'start b', 'end b', 'end a', 'start c', 'end c']);
  assert.deepEqual([...outcomes.values()], ['succeeded', 'succeeded', 'succeeded']);
});
