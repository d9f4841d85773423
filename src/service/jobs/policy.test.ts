import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ConcurrencyPolicy,
  concurrencyOf,
  dropQueued,
  idle,
  type JobRunState,
  onRunEnded,
  onTrigger,
} from './policy.ts';

// Feeds a sequence of events ('t1', 't2', … are triggers; 'end' is the end of the active run) through the
// policy and returns the decisions and the runs started, in order.
function replay(policy: ConcurrencyPolicy, events: string[]): { decisions: string[]; started: string[] } {
  let state: JobRunState<string> = idle();
  const decisions: string[] = [];
  const started: string[] = [];
  for (const event of events) {
    if (event === 'end') {
      const ended = onRunEnded(state);
      state = ended.state;
      if (ended.next) started.push(ended.next);
      decisions.push(ended.next ? `next:${ended.next}` : 'idle');
      continue;
    }
    const result = onTrigger(policy, state, event);
    state = result.state;
    decisions.push(result.decision);
    if (result.decision === 'start') started.push(event);
  }
  return { decisions, started };
}

const CASES: {
  name: string;
  policy: ConcurrencyPolicy;
  events: string[];
  decisions: string[];
  started: string[];
}[] = [
  {
    name: 'a trigger with nothing active starts a run, whatever the policy',
    policy: 'skip',
    events: ['t1', 'end', 't2'],
    decisions: ['start', 'idle', 'start'],
    started: ['t1', 't2'],
  },
  {
    name: 'skip drops triggers while a run is active',
    policy: 'skip',
    events: ['t1', 't2', 't3', 'end', 't4'],
    decisions: ['start', 'skip', 'skip', 'idle', 'start'],
    started: ['t1', 't4'],
  },
  {
    name: 'queue keeps one trigger; later ones coalesce into it (the newest wins)',
    policy: 'queue',
    events: ['t1', 't2', 't3', 't4', 'end', 'end'],
    decisions: ['start', 'queue', 'coalesce', 'coalesce', 'next:t4', 'idle'],
    started: ['t1', 't4'],
  },
  {
    name: 'queue runs one after another',
    policy: 'queue',
    events: ['t1', 't2', 'end', 't3', 'end', 'end'],
    decisions: ['start', 'queue', 'next:t2', 'queue', 'next:t3', 'idle'],
    started: ['t1', 't2', 't3'],
  },
  {
    name: 'cancel-previous cancels the active run and starts the newest trigger once it has ended',
    policy: 'cancel-previous',
    events: ['t1', 't2', 't3', 'end', 't4', 'end', 'end'],
    decisions: ['start', 'cancel', 'coalesce', 'next:t3', 'cancel', 'next:t4', 'idle'],
    started: ['t1', 't3', 't4'],
  },
];

for (const c of CASES) {
  test(`policy: ${c.name}`, () => {
    assert.deepEqual(replay(c.policy, c.events), { decisions: c.decisions, started: c.started });
  });
}

test('policy: dropping the queued trigger leaves the active run active and nothing to start next', () => {
  let state: JobRunState<string> = idle();
  state = onTrigger('queue', state, 't1').state;
  state = onTrigger('queue', state, 't2').state;
  state = dropQueued(state);
  assert.equal(state.active, true);
  assert.deepEqual(onRunEnded(state), { next: undefined, state: idle() });
});

test('policy: concurrencyOf reads spec.concurrency and defaults to queue', () => {
  const table: [unknown, ConcurrencyPolicy][] = [
    ['skip', 'skip'],
    ['queue', 'queue'],
    ['cancel-previous', 'cancel-previous'],
    [undefined, 'queue'],
    ['nonsense', 'queue'],
  ];
  for (const [value, expected] of table) assert.equal(concurrencyOf(value), expected, String(value));
});
