import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findProduct, listProducts } from './index.js';

test('listProducts returns every product sorted by name', () => {
  const names = listProducts().map((p) => p.name);
  assert.equal(names.length, 3);
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));
});

test('findProduct finds by id and returns a copy', () => {
  const kettle = findProduct('p-200');
  assert.equal(kettle?.priceCents, 5900);
  kettle.priceCents = 0;
  assert.equal(findProduct('p-200')?.priceCents, 5900);
  assert.equal(findProduct('nope'), undefined);
});
