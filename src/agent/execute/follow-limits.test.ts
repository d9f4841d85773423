import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenPrincipal } from '../auth/principal.ts';
import { FollowSlots } from './follow-limits.ts';

test('FollowSlots: a principal gets at most its share and the agent at most its total; released slots are free again', () => {
  const slots = new FollowSlots({ total: 3, perPrincipal: 2 });
  const alice = tokenPrincipal('aaaaaaaa', 'alice', 'operator');
  const bob = tokenPrincipal('bbbbbbbb', 'bob', 'operator');
  slots.take('x1', alice);
  slots.take('x2', alice);
  assert.throws(() => slots.take('x3', alice), {
    code: 'DVM_TOO_MANY_RUNNING',
    details: { scope: 'principal' },
  });
  slots.take('x3', bob);
  assert.throws(() => slots.take('x4', bob), {
    code: 'DVM_TOO_MANY_RUNNING',
    details: { scope: 'agent', limit: 3, running: 3 },
  });
  slots.release('x1');
  slots.release('x1');
  slots.take('x4', bob);
  assert.throws(() => slots.take('x5', alice), { details: { scope: 'agent' } });
});
