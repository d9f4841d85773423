/** Deepest nesting of objects and arrays an execute request may have (the body itself is level 1). */
export const MAX_REQUEST_DEPTH = 32;

/**
 * Most values an execute request may hold: object members and array items at any depth. Each is walked several
 * times (validation, policy tags, redaction, canonical JSON for the audit), on the event loop.
 */
export const MAX_REQUEST_VALUES = 10_000;

/**
 * What makes `value` too big to handle: `depth` when objects and arrays nest deeper than `maxDepth` levels, `values`
 * when it holds more than `maxValues` members and items in all; undefined when neither. Iterative, and it stops at
 * the first excess, so it is safe on input that would overflow the stack of a recursive walk.
 */
export function shapeExcess(
  value: unknown,
  maxDepth: number,
  maxValues: number,
): 'depth' | 'values' | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const values: object[] = [value];
  const depths: number[] = [1];
  let count = 0;
  while (values.length > 0) {
    const v = values.pop() as object;
    const depth = depths.pop() as number;
    if (depth > maxDepth) return 'depth';
    const children = Array.isArray(v) ? v : Object.values(v);
    count += children.length;
    if (count > maxValues) return 'values';
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

/** True when objects and arrays in `value` nest deeper than `limit` levels (shapeExcess, without a count limit). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  return shapeExcess(value, limit, Number.POSITIVE_INFINITY) === 'depth';
}
