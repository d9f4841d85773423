import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SettledChange } from './settled-change.ts';

test('SettledChange: a change counts once it held for a second look; changing again restarts the wait', () => {
  const change = new SettledChange('a');
  assert.equal(change.check('a'), false);
  assert.equal(change.check('b'), false, 'just changed: the writer may not be done');
  assert.equal(change.check('c'), false, 'changed again');
  assert.equal(change.check('c'), true, 'held still');
  assert.equal(change.check('c'), false, 'applied once');
  assert.equal(change.check('d'), false);
  assert.equal(change.check('c'), false, 'back to what is applied: nothing to do');
  assert.equal(change.check('d'), false, 'a new change waits again');
  assert.equal(change.check('d'), true);
});
