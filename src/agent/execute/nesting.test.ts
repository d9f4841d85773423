import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nestsDeeperThan } from './nesting.ts';

const nest = (levels: number): unknown => (levels === 0 ? 'leaf' : { a: nest(levels - 1) });

test('nestsDeeperThan counts objects and arrays, the value itself as level 1', () => {
  const cases: [unknown, number, boolean][] = [
    ['text', 0, false],
    [{}, 1, false],
    [{}, 0, true],
    [[[]], 1, true],
    [[[]], 2, false],
    [nest(32), 32, false],
    [nest(33), 32, true],
    [{ a: 1, b: [1, { c: null }], d: 'x' }, 3, false],
    [{ a: 1, b: [1, { c: [] }], d: 'x' }, 3, true],
  ];
  for (const [value, limit, expected] of cases)
    assert.equal(nestsDeeperThan(value, limit), expected, `${JSON.stringify(value)} deeper than ${limit}`);
});

test('nestsDeeperThan is safe on nesting that overflows a recursive walk', () => {
  const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
  assert.throws(() => structuredClone(deep), RangeError, 'this input does overflow a recursive walk');
  assert.equal(nestsDeeperThan(deep, 32), true);
});
