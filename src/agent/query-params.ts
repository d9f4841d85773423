import { parseDuration } from '../actions/builtin/duration.ts';
import type { ErrorCause } from '../errors/dvm-error.ts';
import { didYouMean } from '../model/suggest.ts';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^\d{1,15}$/;

/**
 * The problems of a query string read strictly: each unknown parameter (naming the known ones) and each parameter
 * given more than once (one value per filter); empty when there are none.
 */
export function unknownOrRepeatedParams(
  query: Record<string, unknown>,
  known: readonly string[],
): ErrorCause[] {
  const causes: ErrorCause[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (!known.includes(name)) {
      causes.push({
        code: 'DVM_QUERY_INVALID',
        path: name,
        message: `unknown parameter "${name}"${didYouMean(name, known)}`,
        fix:
          known.length > 0
            ? `Use only ${known.join(', ')}.`
            : 'This route takes no query parameters: drop them.',
      });
    } else if (typeof value !== 'string') {
      causes.push({
        code: 'DVM_QUERY_INVALID',
        path: name,
        message: `parameter "${name}" is given more than once`,
        fix: `Give ${name} once (one value per filter; filters combine with AND).`,
      });
    }
  }
  return causes;
}

/**
 * The filters given with no value (`?actor=`, a bare `?limit`): each a cause, never read as "no filter" — a script
 * whose variable came out empty would get the whole list instead of the slice it asked for.
 */
export function emptyParams(query: Record<string, unknown>, known: readonly string[]): ErrorCause[] {
  return Object.entries(query)
    .filter(([name, value]) => known.includes(name) && value === '')
    .map(([name]) => ({
      code: 'DVM_QUERY_INVALID' as const,
      path: name,
      message: `parameter "${name}" is given without a value`,
      fix: `Give ${name} a value, or leave it out.`,
    }));
}

// Date.parse takes 2026-02-30 for March 2: the day must exist in its month.
function realDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

/**
 * A query time as an ISO string: an RFC 3339 time (with Z or an offset) or a duration back from `now` (30m, 1h,
 * 7d); anything else adds a cause for `field` and gives undefined.
 */
export function queryTime(field: string, value: string, now: Date, causes: ErrorCause[]): string | undefined {
  let ms: number | undefined;
  let why = 'is neither an RFC 3339 time nor a duration';
  if (RFC3339.test(value) && realDate(value)) ms = Date.parse(value.toUpperCase());
  else {
    try {
      ms = now.getTime() - parseDuration(value);
    } catch (error) {
      if (/longer than/.test((error as Error).message)) why = 'reaches back more than 100 years';
    }
  }
  // Past ±275,760 years a Date has no ISO form (an RFC 3339 year is four digits, so this is for durations).
  if (ms !== undefined && Number.isFinite(ms) && Math.abs(ms) <= 8.64e15) return new Date(ms).toISOString();
  causes.push({
    code: 'DVM_QUERY_INVALID',
    path: field,
    message: `${field} "${value.slice(0, 40)}" ${why}`,
    fix: 'Use a time like 2026-01-02T15:04:05Z (with Z or an offset) or a duration back from now like 30m, 1h or 7d.',
  });
  return undefined;
}

/** A query value that must be a decimal integer (digits only); anything else adds a cause saying it is not `what`. */
export function queryInteger(
  field: string,
  value: string | number,
  causes: ErrorCause[],
  what: string,
): number | undefined {
  const text = String(value);
  if (DECIMAL.test(text)) return Number(text);
  causes.push({
    code: 'DVM_QUERY_INVALID',
    path: field,
    message: `${field} "${text.slice(0, 40)}" is not ${what}`,
    fix: 'Write it as digits only (no sign, point, exponent or 0x), like 100.',
  });
  return undefined;
}

/** A page size: a decimal integer 1–`max`, `fallback` when absent or empty; anything else adds a cause. */
export function queryLimit(
  value: string | number | undefined,
  max: number,
  fallback: number,
  causes: ErrorCause[],
  pageOn: string,
): number | undefined {
  if (value === undefined || value === '') return fallback;
  const limit = queryInteger('limit', value, causes, `a decimal integer 1–${max}`);
  if (limit !== undefined && (limit < 1 || limit > max)) {
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'limit',
      message: `limit must be 1–${max}, not ${limit}`,
      fix: `Pass a page size up to ${max} and page on with ${pageOn}.`,
    });
    return undefined;
  }
  return limit;
}
