import { DvmError } from '../errors/dvm-error.ts';

/** Where a forbidden key is: object keys and array indexes from the root. */
export type KeyPath = (string | number)[];

/**
 * The path of the first `__proto__` key or `constructor.prototype` in a parsed value (iterative: no depth limit;
 * each object visited once, so a value that contains itself ends):
 * keys that set or reach an object's prototype in code that copies them by assignment.
 */
export function forbiddenKeySegments(value: unknown): KeyPath | undefined {
  const stack: [unknown, KeyPath][] = [[value, []]];
  // Each object once: a YAML alias makes shared and even self-containing values (`spec: &s {self: *s}`).
  const seen = new WeakSet<object>();
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, KeyPath];
    if (node === null || typeof node !== 'object' || seen.has(node)) continue;
    seen.add(node);
    if (Object.hasOwn(node, '__proto__')) return [...path, '__proto__'];
    const ctor = Object.hasOwn(node, 'constructor')
      ? (node as { constructor: unknown }).constructor
      : undefined;
    if (ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype'))
      return [...path, 'constructor', 'prototype'];
    const inArray = Array.isArray(node);
    for (const [key, v] of Object.entries(node))
      if (v !== null && typeof v === 'object') stack.push([v, [...path, inArray ? Number(key) : key]]);
  }
  return undefined;
}

/** A key path written as `a.b[0].c`. */
export function keyPathText(path: KeyPath): string {
  return path.reduce<string>(
    (text, segment) =>
      typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment,
    '',
  );
}

/** The first forbidden key's path in a parsed value, written as `a.b[0].c` (see forbiddenKeySegments). */
export function forbiddenKeyPath(value: unknown): string | undefined {
  const path = forbiddenKeySegments(value);
  return path === undefined ? undefined : keyPathText(path);
}

/** DVM_REQUEST_FORBIDDEN_KEY for `what` (the request body, the request) holding a forbidden key at `path`. */
export function forbiddenKeyError(path: string, what: string): DvmError {
  return new DvmError(
    'DVM_REQUEST_FORBIDDEN_KEY',
    `${what} has a forbidden key at ${path}: "__proto__" and "constructor.prototype" are refused`,
    {
      fix: 'Rename the key: "__proto__", and "prototype" inside "constructor", are never accepted as keys.',
      path,
    },
  );
}
