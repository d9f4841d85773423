/** Deepest nesting of objects and arrays an execute request may have (the body itself is level 1). */
export const MAX_REQUEST_DEPTH = 32;

/**
 * True when objects and arrays in `value` nest deeper than `limit` levels; iterative, and it stops at the first
 * value too deep, so it is safe on input that would overflow the stack of a recursive walk.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const values: object[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const v = values.pop() as object;
    const depth = depths.pop() as number;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
