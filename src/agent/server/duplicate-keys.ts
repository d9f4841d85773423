// Character codes the scan compares against.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * How deep the scan follows objects and arrays: a request nested deeper is refused by its own depth limit (32 for
 * execute), and the routes that read a few top-level fields never look that far.
 */
export const DUPLICATE_SCAN_DEPTH = 64;

// One open object or array of the scan. Its path is built only for a duplicate (from `parent` and `at`), and an
// object's set of keys only once it has a second key: most bodies have neither.
interface Container {
  parent: Container | undefined;
  /** Its key in its parent object, or its index in its parent array. */
  at: string | number | undefined;
  object: boolean;
  first: string | undefined;
  keys: Set<string> | undefined;
  expectKey: boolean;
  index: number;
}

// The path of a key (or item) inside a container, written as error paths are: `target.env`, `params.list[1].b`.
function pathOf(container: Container | undefined, at: string | number): string {
  const segments: (string | number)[] = [at];
  for (let c = container; c?.parent !== undefined; c = c.parent) segments.push(c.at as string | number);
  let path = '';
  for (const segment of segments.reverse())
    path = typeof segment === 'number' ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment;
  return path;
}

/**
 * The path of the first key that an object of this JSON text repeats (like `target.env` for
 * `{"target": {"env": "prod", "env": "dev"}}`), or undefined; the text must already parse as JSON. Keys are
 * compared as JSON.parse reads them, so `"env"` and `"\u0065nv"` are the same key. Objects nested deeper than
 * DUPLICATE_SCAN_DEPTH are not looked into.
 */
export function duplicateKeyPath(text: string): string | undefined {
  let top: Container | undefined;
  let depth = 0;
  let pendingKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i++;
        } else if (d === QUOTE) break;
      }
      if (top?.object && top.expectKey && depth <= DUPLICATE_SCAN_DEPTH) {
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (top.first === undefined) top.first = key;
        else {
          top.keys ??= new Set([top.first]);
          if (top.keys.has(key)) return pathOf(top, key);
          top.keys.add(key);
        }
        top.expectKey = false;
        pendingKey = key;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > DUPLICATE_SCAN_DEPTH) continue;
      top = {
        parent: top,
        at: top === undefined ? undefined : top.object ? pendingKey : top.index,
        object: c === OPEN_OBJECT,
        first: undefined,
        keys: undefined,
        expectKey: true,
        index: 0,
      };
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth-- > DUPLICATE_SCAN_DEPTH) continue;
      top = top?.parent;
    } else if (top !== undefined && depth <= DUPLICATE_SCAN_DEPTH) {
      if (c === COMMA) {
        if (top.object) top.expectKey = true;
        else top.index++;
      } else if (c === COLON) top.expectKey = false;
    }
  }
  return undefined;
}
