// Order pricing: line items are {priceCents, quantity}; totals are in cents.

/** The total of an order's line items, in cents. Throws on a negative or non-integer quantity. */
export function orderTotal(items) {
  let total = 0;
  for (const { priceCents, quantity } of items) {
    if (!Number.isInteger(quantity) || quantity < 0) throw new RangeError(`invalid quantity: ${quantity}`);
    total += priceCents * quantity;
  }
  return total;
}

/** Formats cents as a price like "12.50". */
export function formatPrice(cents) {
  return (cents / 100).toFixed(2);
}
