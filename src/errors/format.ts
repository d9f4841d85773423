import type { DvmError, ErrorCause, SourceLocation } from './dvm-error.ts';

/** `file:line:col` (or whatever part is known) for a location. */
export function formatLocation(loc: SourceLocation): string {
  const parts: string[] = [];
  if (loc.file) {
    let where = loc.file;
    if (loc.line) where += `:${loc.line}${loc.column ? `:${loc.column}` : ''}`;
    parts.push(where);
  }
  if (loc.object) parts.push(loc.object);
  if (loc.path) parts.push(loc.path);
  return parts.join(' ');
}

function formatCause(cause: ErrorCause): string {
  const where = formatLocation(cause);
  const lines = [`  ${cause.code}${where ? ` ${where}` : ''}: ${cause.message}`];
  if (cause.fix) lines.push(`    fix: ${cause.fix}`);
  return lines.join('\n');
}

/** Renders an error for a terminal: code, location, message, causes and fixes. */
export function formatError(error: DvmError): string {
  const where = formatLocation(error.location);
  const lines = [`error: ${error.code}${where ? ` ${where}` : ''}: ${error.message}`];
  for (const cause of error.causes) lines.push(formatCause(cause));
  if (error.fix) lines.push(`  fix: ${error.fix}`);
  return `${lines.join('\n')}\n`;
}
