import { DvmError, type ErrorCause, isDvmError } from '../../errors/dvm-error.ts';
import {
  emptyParams,
  queryInteger,
  queryLimit,
  queryTime,
  unknownOrRepeatedParams,
} from '../query-params.ts';

/** Decisions an audit entry records. */
export const AUDIT_DECISIONS = ['allowed', 'denied', 'confirmation_required', 'executed', 'failed'] as const;

/** Most key=value pairs one target filter takes (each is a condition of the query). */
export const MAX_TARGET_PAIRS = 20;

/** Most entries one page holds. */
export const MAX_AUDIT_PAGE = 1000;

/** The query parameters of `GET /v1/audit` and what each filters (the OpenAPI document and README show these). */
export const AUDIT_QUERY_PARAMS = {
  actor: 'principal name (exact)',
  owner:
    'the person or team behind the actor (exact): the entries of every token of that owner (dvm token create --owner; a token made without one owns itself), and of the local CLI user for local',
  action: 'action name (exact), like docker.logs; a method and route (GET /v1/audit) means the route filter',
  route:
    'method and route of a request the API refused before it named an action (exact), like GET /v1/audit or POST /v1/actions/execute',
  decision: AUDIT_DECISIONS.join(' | '),
  env: 'target environment (exact)',
  target:
    'key=value pairs joined by commas, like cluster=eu or env=prod,cluster=eu: entries whose target has every one of them (in any order, with other pairs too), as a label selector matches; a , = or % inside a key or value is written %2C %3D %25',
  request_id: 'request_id of the execute request (exact)',
  requestId: 'the same as request_id (the spelling of audit entries); give one of them',
  since:
    'entries at or after this time: RFC 3339 (2026-01-02T15:04:05Z) or a duration back from now (30m, 1h, 7d)',
  until: 'entries at or before this time: RFC 3339 or a duration back from now, as for since',
  limit: `page size: a decimal integer 1–${MAX_AUDIT_PAGE} (default 100)`,
  after: 'the `next` cursor of the previous page (a decimal integer)',
  tail: `the last N matching entries (1–${MAX_AUDIT_PAGE}), still oldest first: the newest ones, as tail -n shows them; not with limit or after`,
} as const;

/** Filters of `AuditLog.query` and `dvm audit` (strings as they come from a query string or flags). */
export interface AuditFilters {
  actor?: string;
  /** The owner behind the actor: every token of that owner (and `local` for the local CLI user). */
  owner?: string;
  action?: string;
  /** Method and route of a refused request, as its entry shows it (GET /v1/audit). */
  route?: string;
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
  /** The last N matching entries (oldest first), in place of a page from the start. */
  tail?: string | number;
}

/** Filters with their values checked: times as ISO strings, numbers as numbers. */
export interface CheckedAuditFilters {
  equal: [column: string, value: string][];
  /** key=value pairs (escaped as entries write them) the target must hold, each one. */
  targetPairs: string[];
  owner?: string;
  since?: string;
  until?: string;
  limit: number;
  after?: number;
  /** The last this many matching entries, in place of `limit` from the start (or `after`). */
  tail?: number;
}

const KNOWN = Object.keys(AUDIT_QUERY_PARAMS);
// Refusals of the API keep their route in the entry only (no column): rare enough to scan for.
const ROUTE_COLUMN = "json_extract(entry, '$.route')";
const ROUTE_SHAPE = /^[A-Z]+ \//;
const COLUMNS: [keyof AuditFilters, string][] = [
  ['actor', 'actor'],
  ['action', 'action'],
  ['route', ROUTE_COLUMN],
  ['env', 'env'],
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
  const causes = [...unknownOrRepeatedParams(query, KNOWN), ...emptyParams(query, KNOWN)];
  if (query.request_id !== undefined && query.requestId !== undefined)
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'requestId',
      message: 'request_id and requestId are the same filter: give one of them',
      fix: 'Leave out requestId.',
    });
  const { request_id: requestId, ...rest } = query;
  const filters = (requestId === undefined ? rest : { ...rest, requestId }) as AuditFilters;
  if (causes.length === 0) return filters;
  // Every problem at once: the values of the known parameters given once are checked too.
  const given = Object.fromEntries(
    Object.entries(filters).filter(([name, value]) => KNOWN.includes(name) && typeof value === 'string'),
  ) as AuditFilters;
  try {
    checkAuditFilters(given, new Date());
  } catch (error) {
    if (!isDvmError(error)) throw error;
    causes.push(...error.causes);
  }
  throw invalid(causes);
}

/** Checks every filter's value (decision, RFC 3339 times or durations, decimal integers); DVM_QUERY_INVALID lists all. */
export function checkAuditFilters(filters: AuditFilters, now: Date): CheckedAuditFilters {
  const causes: ErrorCause[] = [];
  const equal: [string, string][] = [];
  for (const [name, column] of COLUMNS) {
    const value = filters[name];
    if (value === undefined || value === '') continue;
    // The table shows a refusal's route where an action would be: an action filter shaped like one (no action
    // name has a space) means the route.
    const routeShaped = name === 'action' && ROUTE_SHAPE.test(String(value));
    equal.push([routeShaped ? ROUTE_COLUMN : column, String(value)]);
  }
  const targetPairs =
    filters.target === undefined || filters.target === '' ? [] : String(filters.target).split(',');
  if (targetPairs.length > MAX_TARGET_PAIRS)
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'target',
      message: `target names ${targetPairs.length} pairs; a filter takes at most ${MAX_TARGET_PAIRS}`,
      fix: `Filter on the pairs that tell entries apart (at most ${MAX_TARGET_PAIRS}).`,
    });
  for (const pair of targetPairs.slice(0, MAX_TARGET_PAIRS)) {
    if (pair.indexOf('=') > 0) continue;
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'target',
      message: `target pair "${pair.slice(0, 40)}" is not key=value`,
      fix: 'Write the pairs as key=value joined by commas, like env=prod,cluster=eu.',
    });
  }
  if (filters.decision && !(AUDIT_DECISIONS as readonly string[]).includes(filters.decision)) {
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'decision',
      message: `decision "${filters.decision.slice(0, 40)}" is not one of ${AUDIT_DECISIONS.join(', ')}`,
      fix: `Use one of: ${AUDIT_DECISIONS.join(', ')}.`,
    });
  }
  const since = filters.since ? queryTime('since', filters.since, now, causes) : undefined;
  const until = filters.until ? queryTime('until', filters.until, now, causes) : undefined;
  const after =
    filters.after === undefined || filters.after === ''
      ? undefined
      : queryInteger('after', filters.after, causes, 'the `next` cursor of a page (a decimal integer)');
  const limit = queryLimit(filters.limit, MAX_AUDIT_PAGE, 100, causes, 'after');
  const tail = filters.tail === undefined || filters.tail === '' ? undefined : tailOf(filters, causes);
  if (causes.length > 0) throw invalid(causes);
  return {
    equal,
    targetPairs,
    ...(filters.owner ? { owner: String(filters.owner) } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    limit: limit as number,
    ...(after !== undefined ? { after } : {}),
    ...(tail !== undefined ? { tail } : {}),
  };
}

// `tail`: 1–MAX_AUDIT_PAGE, and alone (a page from the start, or after a cursor, is another question).
function tailOf(filters: AuditFilters, causes: ErrorCause[]): number | undefined {
  const tail = queryInteger(
    'tail',
    filters.tail as string | number,
    causes,
    `a decimal integer 1–${MAX_AUDIT_PAGE}`,
  );
  if (tail === undefined) return undefined;
  if (tail < 1 || tail > MAX_AUDIT_PAGE) {
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'tail',
      message: `tail must be 1–${MAX_AUDIT_PAGE}, not ${tail}`,
      fix: `Ask for at most ${MAX_AUDIT_PAGE} entries; page back with until for older ones.`,
    });
    return undefined;
  }
  const other = (['limit', 'after'] as const).find(
    (name) => filters[name] !== undefined && filters[name] !== '',
  );
  if (other) {
    causes.push({
      code: 'DVM_QUERY_INVALID',
      path: 'tail',
      message: `tail and ${other} do not go together: tail is the last entries, ${other} pages from the start`,
      fix: `Leave out ${other}, or tail.`,
    });
    return undefined;
  }
  return tail;
}
