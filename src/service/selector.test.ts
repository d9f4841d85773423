import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDvmError } from '../errors/dvm-error.ts';
import { matchesSelector, parseSelector } from './selector.ts';

const labels = { tier: 'backend', team: 'auth' };

for (const [selector, expected] of [
  ['tier=backend', true],
  ['tier==backend', true],
  ['tier!=backend', false],
  ['tier in (frontend, backend)', true],
  ['tier notin (backend)', false],
  ['team', true],
  ['!team', false],
  ['owner', false],
  ['!owner', true],
  ['tier=backend,team=billing', false],
  ['tier=backend,team in (auth,billing)', true],
] as const) {
  test(`selector "${selector}" → ${expected}`, () => {
    assert.equal(matchesSelector(parseSelector(selector), labels), expected);
  });
}

test('a malformed selector is a usage error', () => {
  assert.throws(
    () => parseSelector('tier=~x'),
    (e) => isDvmError(e) && e.code === 'DVM_USAGE',
  );
});
