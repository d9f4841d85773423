/** JSON with object keys sorted, so equal values give equal strings. */
export function stableStringify(value: unknown): string {
  return write(value) ?? 'null';
}

// Quoted forms of the keys seen so far (most are the same few field names); bounded, as keys may be data.
const quoted = new Map<string, string>();
const MAX_QUOTED = 4096;

function quote(key: string): string {
  let q = quoted.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quoted.size >= MAX_QUOTED) quoted.clear();
    quoted.set(key, q);
  }
  return q;
}

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}

// JSON.stringify's rules (toJSON, undefined/functions dropped from objects and null in arrays), keys sorted.
// Built by concatenation, and keys already in order are not sorted again: audit entries and request hashes
// are written on every agent request.
function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      // undefined, functions and symbols are dropped; a bigint throws as in JSON.stringify.
      return typeof value === 'bigint' ? JSON.stringify(value) : undefined;
  }
  if (value === null) return 'null';
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return write(json.call(value));
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (write(value[i]) ?? 'null');
    return `${out}]`;
  }
  const keys = Object.keys(value);
  if (!isSorted(keys)) keys.sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = write((value as Record<string, unknown>)[key]);
    if (v === undefined) continue;
    out += `${first ? '' : ','}${quote(key)}:${v}`;
    first = false;
  }
  return `${out}}`;
}
