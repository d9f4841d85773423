import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDag } from './dag.ts';

const graph = (edges: Record<string, string[]>) =>
  Object.entries(edges).map(([name, dependsOn]) => ({ name, dependsOn }));

test('checkDag accepts a diamond', () => {
  //   lint   scan
  //      \   /
  //      test
  //        |
  //      build
  const result = checkDag(graph({ lint: [], scan: [], test: ['lint', 'scan'], build: ['test'] }));
  assert.deepEqual(result, { missing: [] });
});

test('checkDag names a cycle in order', () => {
  //   a → b → c → a      d (outside the cycle, depends on a)
  const result = checkDag(graph({ a: ['c'], b: ['a'], c: ['b'], d: ['a'] }));
  assert.ok(result.cycle);
  assert.equal(result.cycle[0], result.cycle.at(-1));
  assert.deepEqual(new Set(result.cycle), new Set(['a', 'b', 'c']));
});

test('checkDag reports a self-loop', () => {
  assert.deepEqual(checkDag(graph({ a: ['a'] })).cycle, ['a', 'a']);
});

test('checkDag reports edges to unknown nodes with their positions', () => {
  assert.deepEqual(checkDag(graph({ a: [], b: ['a', 'zz'] })).missing, [[1, 1, 'zz']]);
});
