import assert from 'node:assert/strict';
import { test } from 'node:test';
import { illFormedTextPath } from './well-formed-text.ts';

test('the path of the first lone surrogate: in a value, an array item, a key; none in well-formed text', () => {
  assert.equal(illFormedTextPath({ a: 'x', b: { c: ['ok', 'y\ud800'] } }), 'b.c[1]');
  assert.equal(illFormedTextPath({ a: { 'k\udfff': 1 } }), 'a.k\ufffd (its key)');
  assert.equal(illFormedTextPath('\udc00'), '(the value)');
  assert.equal(illFormedTextPath({ a: 'pair \ud83d\ude00', b: [1, null, true], c: '' }), undefined);
  assert.equal(illFormedTextPath(42), undefined);
});
