// Integration tests against the apps running in live mode (dvm deploy app): the catalog serves the seeded
// products from PostgreSQL; orders are priced from them and numbered by Redis.
import assert from 'node:assert/strict';
import { test } from 'node:test';

const CATALOG = process.env.CATALOG_URL ?? 'http://127.0.0.1:8781';
const ORDERS = process.env.ORDERS_URL ?? 'http://127.0.0.1:8782';

test('the catalog lists the products seeded by the data lake', async () => {
  const products = await (await fetch(`${CATALOG}/products`)).json();
  assert.deepEqual(
    products.map((p) => p.id),
    ['p-100', 'p-300', 'p-200'],
  );
});

test('an order is priced from the database and numbered by redis', async () => {
  const order = async (body) =>
    fetch(`${ORDERS}/orders`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => [r.status, await r.json()]);
  const [status, first] = await order({ productId: 'p-200', quantity: 2 });
  assert.equal(status, 201);
  assert.equal(first.total, '118.00');
  const [, second] = await order({ productId: 'p-300', quantity: 1 });
  assert.equal(second.number, first.number + 1);
  assert.equal((await order({ productId: 'nope', quantity: 1 }))[0], 404);
});
