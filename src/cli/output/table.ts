/** Renders rows as a kubectl-style table: upper-case headers, columns padded with three spaces. */
export function renderTable(headers: string[], givenRows: string[][]): string {
  // Stored text is shown, never obeyed: control characters (an escape sequence in a description) print as \xNN.
  const rows = givenRows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('   ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** Age like kubectl prints it: 45s, 12m, 3h, 5d, 2y. */
export function formatAge(from: string, now: Date = new Date()): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - new Date(from).getTime()) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  return days < 730 ? `${days}d` : `${Math.floor(days / 365)}y`;
}

/** The value at a dotted path of an object (`#` suffix ignored here), or undefined. */
export function valueAt(object: unknown, path: string): unknown {
  let node: unknown = object;
  for (const segment of path.replace(/#$/, '').split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** A table cell for a value; with `count`, the length of a list. */
export function formatCell(value: unknown, count = false): string {
  if (count) return Array.isArray(value) ? String(value.length) : '0';
  if (value === undefined || value === null || value === '') return '<none>';
  if (Array.isArray(value))
    return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// Control characters (C0 except tab, DEL, C1) as visible \xNN escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
