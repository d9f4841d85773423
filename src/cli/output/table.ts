/** Renders rows as a kubectl-style table: upper-case headers, columns padded with three spaces. */
export function renderTable(headers: string[], rows: string[][]): string {
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

/** The value at a dotted path for a table cell; a `#` suffix counts a list. */
export function cellAt(object: unknown, path: string): string {
  const count = path.endsWith('#');
  let node: unknown = object;
  for (const segment of (count ? path.slice(0, -1) : path).split('.')) {
    if (node === null || typeof node !== 'object') return '<none>';
    node = (node as Record<string, unknown>)[segment];
  }
  if (count) return Array.isArray(node) ? String(node.length) : '0';
  if (node === undefined || node === null || node === '') return '<none>';
  if (Array.isArray(node))
    return node.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' ');
  if (typeof node === 'object') return JSON.stringify(node);
  return String(node);
}
