// Character codes the scan compares against.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

// One open object or array of the scan: its path, and for an object the keys seen and whether a key comes next.
interface Container {
  path: string;
  keys: Set<string> | undefined;
  expectKey: boolean;
  index: number;
}

const childPath = (parent: Container, key: string): string =>
  parent.keys === undefined ? `${parent.path}[${parent.index}]` : parent.path ? `${parent.path}.${key}` : key;

/**
 * The path of the first key that an object of this JSON text repeats (like `target.env` for
 * `{"target": {"env": "prod", "env": "dev"}}`), or undefined; the text must already parse as JSON. Keys are
 * compared as JSON.parse reads them, so `"env"` and `"\u0065nv"` are the same key.
 */
export function duplicateKeyPath(text: string): string | undefined {
  const stack: Container[] = [];
  let top: Container | undefined;
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
      if (top?.keys !== undefined && top.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (top.keys.has(key)) return childPath(top, key);
        top.keys.add(key);
        top.expectKey = false;
        pendingKey = key;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const path = top === undefined ? '' : childPath(top, pendingKey);
      top = { path, keys: c === OPEN_OBJECT ? new Set() : undefined, expectKey: true, index: 0 };
      stack.push(top);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      top = stack[stack.length - 1];
    } else if (c === COMMA && top !== undefined) {
      if (top.keys === undefined) top.index++;
      else top.expectKey = true;
    } else if (c === COLON && top !== undefined) {
      top.expectKey = false;
    }
  }
  return undefined;
}
