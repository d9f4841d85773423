/** A JSON value as found in specs. */
type Json = unknown;

function isPlainObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Merges `lower` under `upper`: objects merge key by key, lists and scalars from `upper` replace, `upper` wins.
 * Paths whose value came from `lower` are recorded in `provenance` with `source`.
 */
export function mergeUnder(
  upper: Json,
  lower: Json,
  source: string,
  provenance: Record<string, string>,
  path = 'spec',
): Json {
  if (upper === undefined) {
    recordLeaves(lower, source, provenance, path);
    return structuredClone(lower);
  }
  if (!isPlainObject(upper) || !isPlainObject(lower)) return upper;
  const merged: Record<string, Json> = { ...upper };
  for (const [key, value] of Object.entries(lower)) {
    // Own keys only, and defined rather than assigned: keys like `toString` or `__proto__` are plain data here.
    const own = Object.hasOwn(upper, key) ? upper[key] : undefined;
    Object.defineProperty(merged, key, {
      value: mergeUnder(own, value, source, provenance, `${path}.${key}`),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return merged;
}

function recordLeaves(value: Json, source: string, provenance: Record<string, string>, path: string): void {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value))
      recordLeaves(child, source, provenance, `${path}.${key}`);
  } else {
    provenance[path] = source;
  }
}

/** The inherited source of a path: of the path or an ancestor, else of its inherited descendants. */
export function inheritedFrom(provenance: Record<string, string>, path: string): string | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    if (Object.hasOwn(provenance, p)) return provenance[p];
  }
  const descendant = Object.keys(provenance).find((key) => key.startsWith(`${path}.`));
  return descendant ? provenance[descendant] : undefined;
}
