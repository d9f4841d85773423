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
    merged[key] = mergeUnder(upper[key], value, source, provenance, `${path}.${key}`);
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

/** The inherited source of a path, if it or one of its ancestors was inherited. */
export function inheritedFrom(provenance: Record<string, string>, path: string): string | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    if (provenance[p]) return provenance[p];
  }
  return undefined;
}
