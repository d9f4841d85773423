import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nestsDeeperThan, shapeExcess } from './nesting.ts';

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

test('shapeExcess counts the keys of every object at any depth (not array items), stopping past the limit', () => {
  const members = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  const cases: [unknown, 'depth' | 'keys' | undefined][] = [
    [{ a: members(7), b: [1, 2] }, undefined], // 2 + 7 keys; the list's items do not count
    [{ a: members(8), b: [1, 2] }, undefined], // 10
    [{ a: members(9), b: [1, 2] }, 'keys'], // 11
    [[members(5), [[{ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }]]], 'keys'], // 5 + 6, the last ones three levels down
    [{ list: Array.from({ length: 1000 }, (_, i) => i) }, undefined], // a long list of scalars
  ];
  for (const [value, expected] of cases)
    assert.equal(shapeExcess(value, 32, 10), expected, JSON.stringify(value).slice(0, 80));
  // Lists have their own limit: items at any depth, empty ones too.
  assert.equal(shapeExcess({ a: [1, 2, [3, 4]], b: [{}, []] }, 32, 10, 7), undefined); // 3 + 2 + 2
  assert.equal(shapeExcess({ a: [1, 2, [3, 4]], b: [{}, [], 5] }, 32, 10, 7), 'items'); // 8
  assert.equal(shapeExcess(nest(40), 32, 100), 'depth');
  assert.equal(shapeExcess(nest(32), 32, 100), undefined);
});
