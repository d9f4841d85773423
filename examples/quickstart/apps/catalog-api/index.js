// The product catalog: prices are in cents so sums are exact.
const PRODUCTS = [
  { id: 'p-100', name: 'Coffee beans, 1 kg', priceCents: 2400 },
  { id: 'p-200', name: 'Pour-over kettle', priceCents: 5900 },
  { id: 'p-300', name: 'Paper filters (100)', priceCents: 600 },
];

/** Every product, sorted by name. */
export function listProducts() {
  return [...PRODUCTS].sort((a, b) => a.name.localeCompare(b.name)).map((p) => ({ ...p }));
}

/** The product with this id, or undefined. */
export function findProduct(id) {
  const product = PRODUCTS.find((p) => p.id === id);
  return product ? { ...product } : undefined;
}
