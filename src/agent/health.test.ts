import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectorHealth } from '../actions/connectors.ts';
import { cachedHealth } from './health.ts';

test('health answers from the last finished round while a connector hangs: it never waits out the check timeout', async () => {
  let calls = 0;
  // The first check answers; the second never does (a daemon that accepts and never answers); the third answers.
  const docker = (): Promise<ConnectorHealth> => {
    calls++;
    if (calls === 2) return new Promise(() => {});
    return Promise.resolve({ status: 'ok', detail: `round ${calls}` });
  };
  const store = async (): Promise<ConnectorHealth> => ({ status: 'ok', detail: 'store' });
  const health = cachedHealth({ store, docker }, 20);

  const first = await health();
  assert.deepEqual([first.status, first.connectors.docker?.detail], ['ok', 'round 1']);
  await sleep(40);
  // A new round starts and hangs: the answer is the last finished round's, not a wait of 2 s for "no answer".
  const during = await health();
  assert.equal(calls, 2);
  assert.deepEqual([during.status, during.connectors.docker?.detail], ['ok', 'round 1']);
  // The hanging round ends at the check timeout as unavailable; later answers say so, then the next round's.
  let later = await health();
  for (let i = 0; i < 60 && later.connectors.docker?.detail === 'round 1'; i++) {
    await sleep(100);
    later = await health();
  }
  assert.equal(later.connectors.docker?.status, 'unavailable', JSON.stringify(later));
  assert.equal(later.status, 'degraded');
  // The next rounds answer again (which one a call started depends on timing: any after the hanging one).
  await sleep(40);
  await health();
  await sleep(10);
  const after = await health();
  assert.match(String(after.connectors.docker?.detail), /^round ([3-9]|\d\d+)$/);
  assert.equal(after.status, 'ok');
});
