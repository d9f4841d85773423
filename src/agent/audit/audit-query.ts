import { parseDuration } from '../../actions/builtin/duration.ts';
import { DvmError, type ErrorCause } from '../../errors/dvm-error.ts';
import { didYouMean } from '../../model/suggest.ts';

/** Decisions an audit entry records. */
export const AUDIT_DECISIONS = ['allowed', 'denied', 'confirmation_required', 'executed', 'failed'] as const;

/** Most entries one page holds. */
export const MAX_AUDIT_PAGE = 1000;

/** The query parameters of `GET /v1/audit` and what each filters (the OpenAPI document and README show these). */
export const AUDIT_QUERY_PARAMS = {
  actor: 'principal name (exact)',
  action: 'action name (exact), like docker.logs',
  decision: AUDIT_DECISIONS.join(' | '),
  env: 'target environment (exact)',
  target:
    'the target as entries show it: its key=value pairs joined by commas, in request order (exact), like env=prod,cluster=eu; a , = or % inside a key or value is written %2C %3D %25',
  requestId: 'request_id of the execute request (exact)',
  since:
    'entries at or after this time: RFC 3339 (2026-01-02T15:04:05Z) or a duration back from now (30m, 1h, 7d)',
  until: 'entries at or before this time: RFC 3339 or a duration back from now, as for since',
  limit: `page size: a decimal integer 1–${MAX_AUDIT_PAGE} (default 100)`,
  after: 'the `next` cursor of the previous page (a decimal integer)',
} as const;

/** Filters of `AuditLog.query` and `dvm audit` (strings as they come from a query string or flags). */
export interface AuditFilters {
  actor?: string;
  action?: string;
  decision?: string;
  env?: string;
  target?: string;
  requestId?: string;
  /** RFC 3339 time, or a duration back from now like 1h. */
  since?: string;
  until?: string;
  limit?: string | number;
  /** The `next` cursor of the previous page. */
  after?: string | number;
}

/** Filters with their values checked: times as ISO strings, numbers as numbers. */
export interface CheckedAuditFilters {
  equal: [column: string, value: string][];
  since?: string;
  until?: string;
  limit: number;
  after?: number;
}

const KNOWN = Object.keys(AUDIT_QUERY_PARAMS);
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^\d{1,15}$/;
const COLUMNS: [keyof AuditFilters, string][] = [
  ['actor', 'actor'],
  ['action', 'action'],
  ['env', 'env'],
  ['target', 'target'],
  ['requestId', 'request_id'],
  ['decision', 'decision'],
];

function invalid(causes: ErrorCause[]): DvmError {
  return new DvmError(
    'DVM_QUERY_INVALID',
    `the audit query is not valid: ${causes.length === 1 ? causes[0].message : `${causes.length} problems`}`,
    { fix: causes.length === 1 ? causes[0].fix : 'Fix the parameters listed in details.causes.', causes },
  );
}

/**
 * Reads the query string of `GET /v1/audit` strictly: an unknown parameter (with the known ones) or a repeated one
 * is DVM_QUERY_INVALID, every problem listed.
 */
export function auditFiltersOf(query: Record<string, unknown>): AuditFilters {
  const causes: ErrorCause[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (!KNOWN.includes(name)) {
      causes.push({
        code: 'DVM_QUERY_INVALID',
        path: name,
        message: `unknown parameter "${name}"${didYouMean(name, KNOWN)}`,
        fix: `Use only ${KNOWN.join(', ')}.`,
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
  if (causes.length > 0) throw invalid(causes);
  return query as AuditFilters;
}

// Date.parse takes 2026-02-30 for March 2: the day must exist in its month.
function realDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

function timeOf(field: string, value: string, now: Date, causes: ErrorCause[]): string | undefined {
  let ms: number | undefined;
  if (RFC3339.test(value) && realDate(value)) ms = Date.parse(value.toUpperCase());
  else {
    try {
      ms = now.getTime() - parseDuration(value);
    } catch {}
  }
  if (ms !== undefined && !Number.isNaN(ms)) return new Date(ms).toISOString();
  causes.push({
    code: 'DVM_QUERY_INVALID',
    path: field,
    message: `${field} "${value.slice(0, 40)}" is neither an RFC 3339 time nor a duration`,
    fix: 'Use a time like 2026-01-02T15:04:05Z (with Z or an offset) or a duration back from now like 30m, 1h or 7d.',
  });
  return undefined;
}

function integerOf(
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
  });
  return undefined;
}

/** Checks every filter's value (decision, RFC 3339 times or durations, decimal integers); DVM_QUERY_INVALID lists all. */
export function checkAuditFilters(filters: AuditFilters, now: Date): CheckedAuditFilters {
  const causes: ErrorCause[] = [];
  const equal: [string, string][] = [];
  for (const [name, column] of COLUMNS) {
    const value = filters[name];
    if (value !== undefined && value !== '') equal.push([column, String(value)]);
  }
  if (filters.decision && !(AUDIT_DECISIONS as readonly string[]).includes(filters.decision)) {
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'decision',
      message: `decision "${filters.decision.slice(0, 40)}" is not one of ${AUDIT_DECISIONS.join(', ')}`,
    });
  }
  const since = filters.since ? timeOf('since', filters.since, now, causes) : undefined;
  const until = filters.until ? timeOf('until', filters.until, now, causes) : undefined;
  const after =
    filters.after === undefined || filters.after === ''
      ? undefined
      : integerOf('after', filters.after, causes, 'the `next` cursor of a page (a decimal integer)');
  const limit =
    filters.limit === undefined || filters.limit === ''
      ? 100
      : integerOf('limit', filters.limit, causes, `a decimal integer 1–${MAX_AUDIT_PAGE}`);
  if (limit !== undefined && (limit < 1 || limit > MAX_AUDIT_PAGE)) {
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'limit',
      message: `limit must be 1–${MAX_AUDIT_PAGE}, not ${limit}`,
      fix: `Pass a page size up to ${MAX_AUDIT_PAGE} and page on with after.`,
    });
  }
  if (causes.length > 0) throw invalid(causes);
  return {
    equal,
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    limit: limit as number,
    ...(after !== undefined ? { after } : {}),
  };
}
