import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DvmError } from '../../errors/dvm-error.ts';
import { tokenPrincipal } from '../auth/principal.ts';
import { FollowSlots } from './follow-limits.ts';

// A matcher of the refusal, by the scope (and, when given, the limit and count) it names.
const refused =
  (scope: string, limit?: number, running?: number) =>
  (error: DvmError): boolean => {
    const details = error.details as { scope: string; limit: number; running: number };
    return (
      error.code === 'DVM_TOO_MANY_RUNNING' &&
      details.scope === scope &&
      (limit === undefined || details.limit === limit) &&
      (running === undefined || details.running === running)
    );
  };

test('FollowSlots: a principal gets at most its share and the agent at most its total; released slots are free again', () => {
  const slots = new FollowSlots({ total: 3, perPrincipal: 2 });
  const alice = tokenPrincipal('aaaaaaaa', 'alice', 'operator');
  const bob = tokenPrincipal('bbbbbbbb', 'bob', 'operator');
  slots.take('x1', alice);
  slots.take('x2', alice);
  assert.throws(() => slots.take('x3', alice), refused('principal', 2, 2));
  slots.take('x3', bob);
  assert.throws(() => slots.take('x4', bob), refused('agent', 3, 3));
  slots.release('x1');
  slots.release('x1');
  slots.take('x4', bob);
  assert.throws(() => slots.take('x5', alice), refused('agent'));
});

test('FollowSlots.useLimits: new limits hold for the follows taken from then on; running ones keep their slots', () => {
  const slots = new FollowSlots({ total: 3, perPrincipal: 3 });
  const alice = tokenPrincipal('aaaaaaaa', 'alice', 'operator');
  slots.take('x1', alice);
  slots.take('x2', alice);
  slots.useLimits({ total: 3, perPrincipal: 1 });
  assert.throws(() => slots.take('x3', alice), refused('principal', 1, 2));
  slots.useLimits();
  slots.take('x3', alice);
});
