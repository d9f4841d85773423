import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPrice, orderTotal } from './index.js';

test('orderTotal sums price times quantity', () => {
  assert.equal(orderTotal([]), 0);
  assert.equal(orderTotal([{ priceCents: 2400, quantity: 2 }, { priceCents: 600, quantity: 1 }]), 5400);
});

test('orderTotal rejects invalid quantities', () => {
  assert.throws(() => orderTotal([{ priceCents: 100, quantity: -1 }]), RangeError);
  assert.throws(() => orderTotal([{ priceCents: 100, quantity: 1.5 }]), RangeError);
});

test('formatPrice shows two decimals', () => {
  assert.equal(formatPrice(5400), '54.00');
  assert.equal(formatPrice(5), '0.05');
});
