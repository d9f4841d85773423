/** Deepest nesting of objects and arrays an execute request may have (the body itself is level 1). */
export const MAX_REQUEST_DEPTH = 32;

/**
 * Most object keys an execute request may hold, at any depth. Each is walked several times (validation, policy tags,
 * redaction, canonical JSON for the audit, which sorts them) on the event loop, at ~15 µs a key; a list item costs
 * about a tenth of that, and lists have their own limit (MAX_REQUEST_ITEMS).
 */
export const MAX_REQUEST_KEYS = 10_000;

/** Most list items an execute request may hold, at any depth: data.delete's list of keys, at its schema's maximum. */
export const MAX_REQUEST_ITEMS = 100_000;

/**
 * What makes `value` too big to handle: `depth` when objects and arrays nest deeper than `maxDepth` levels, `keys`
 * when its objects hold more than `maxKeys` keys in all, `items` when its lists hold more than `maxItems` items in
 * all; undefined when none. Iterative, and it stops at the first excess, so it is safe on input that would overflow
 * the stack of a recursive walk.
 */
export function shapeExcess(
  value: unknown,
  maxDepth: number,
  maxKeys: number,
  maxItems = Number.POSITIVE_INFINITY,
): 'depth' | 'keys' | 'items' | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const values: object[] = [value];
  const depths: number[] = [1];
  let keys = 0;
  let items = 0;
  while (values.length > 0) {
    const v = values.pop() as object;
    const depth = depths.pop() as number;
    if (depth > maxDepth) return 'depth';
    const isArray = Array.isArray(v);
    const children = isArray ? v : Object.values(v);
    if (isArray) items += children.length;
    else keys += children.length;
    if (keys > maxKeys) return 'keys';
    if (items > maxItems) return 'items';
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

/** True when objects and arrays in `value` nest deeper than `limit` levels (shapeExcess, without a key limit). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  return shapeExcess(value, limit, Number.POSITIVE_INFINITY) === 'depth';
}
