import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { DvmError, type ErrorCause } from '../../errors/dvm-error.ts';
import { emptyParams, queryLimit, queryTime, unknownOrRepeatedParams } from '../query-params.ts';
import { statement } from '../store/statements.ts';
import { type ExecutionColumns, type ExecutionRecord, type ExecutionStatus, recordOf } from './executions.ts';

/** Where an execution can be, as the `status` filter takes it. */
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'running',
  'succeeded',
  'failed',
  'interrupted',
];

/** Most executions one page holds. */
export const MAX_EXECUTION_PAGE = 1000;

/** Executions a page holds when the query gives no `limit`. */
export const DEFAULT_EXECUTION_PAGE = 50;

/** The query parameters of `GET /v1/executions` and what each filters (the OpenAPI document and README show these). */
export const EXECUTION_QUERY_PARAMS = {
  action: 'action name (exact), like system.info',
  status: EXECUTION_STATUSES.join(' | '),
  env: 'target environment (exact)',
  principal:
    'whose executions: a principal identity as rows show it, token/<token id> or local (exact); admins only — anyone else may name only itself',
  since:
    'executions created at or after this time: RFC 3339 (2026-01-02T15:04:05Z) or a duration back from now (30m, 1h, 7d)',
  until: 'executions created at or before this time: RFC 3339 or a duration back from now, as for since',
  limit: `page size: a decimal integer 1–${MAX_EXECUTION_PAGE} (default ${DEFAULT_EXECUTION_PAGE})`,
  before: 'the `next` cursor of the previous page (an execution id): the page goes on with older executions',
} as const;

/** Filters of an execution list (strings as they come from a query string or flags). */
export interface ExecutionFilters {
  action?: string;
  status?: string;
  env?: string;
  principal?: string;
  /** RFC 3339 time, or a duration back from now like 1h. */
  since?: string;
  until?: string;
  limit?: string | number;
  /** The `next` cursor of the previous page. */
  before?: string;
}

/** Filters with their values checked: times as ISO strings, the limit as a number. */
export interface CheckedExecutionFilters {
  action?: string;
  status?: ExecutionStatus;
  env?: string;
  principal?: string;
  since?: string;
  until?: string;
  limit: number;
  before?: string;
}

/** One execution of a list: what it was and how it went, without its result (`GET /v1/executions/{id}` has that). */
export type ExecutionSummary = Omit<ExecutionRecord, 'result' | 'error'> & {
  /** The code of the error a failed or interrupted execution ended with. */
  error_code?: string;
};

/** A page of executions, newest first; `next` is the `before` of the following page, when there is one. */
export interface ExecutionPage {
  items: ExecutionSummary[];
  next?: string;
}

type Row = ExecutionColumns & { error_code: string | null };

const KNOWN = Object.keys(EXECUTION_QUERY_PARAMS);
const EQUAL = ['action', 'env', 'principal'] as const;
// An execution id as newExecutionId writes it (x, the time in base 36, 12 random hex digits): a cursor edited by
// hand (a character added or cut) is refused, not read as a place in the list that repeats or skips executions.
const CURSOR = /^x[0-9a-z]{8,9}[0-9a-f]{12}$/;
// The time an execution id was made at: its base-36 digits before the 12 random hex digits. A character added to a
// cursor lengthens that part and puts it centuries ahead: such a cursor is refused, not read as a place in the list.
function cursorTime(id: string): number {
  return Number.parseInt(id.slice(1, -12), 36);
}

// created_at is taken just after the id's time (newExecutionId, then prepare): the key range of a time filter is
// widened by this much, and the exact created_at condition decides.
const ID_TIME_SLACK_MS = 60_000;

function invalid(causes: ErrorCause[]): DvmError {
  return new DvmError(
    'DVM_QUERY_INVALID',
    `the execution query is not valid: ${causes.length === 1 ? causes[0].message : `${causes.length} problems`}`,
    { fix: causes.length === 1 ? causes[0].fix : 'Fix the parameters listed in details.causes.', causes },
  );
}

// Checks every filter's value, adding a cause for each bad one.
function checkInto(filters: ExecutionFilters, now: Date, causes: ErrorCause[]): CheckedExecutionFilters {
  const checked: Omit<CheckedExecutionFilters, 'limit'> = {};
  for (const name of EQUAL) if (filters[name]) checked[name] = filters[name];
  if (filters.status) {
    if ((EXECUTION_STATUSES as readonly string[]).includes(filters.status))
      checked.status = filters.status as ExecutionStatus;
    else
      causes.push({
        code: 'DVM_QUERY_INVALID',
        path: 'status',
        message: `status "${filters.status.slice(0, 40)}" is not one of ${EXECUTION_STATUSES.join(', ')}`,
        fix: `Use one of: ${EXECUTION_STATUSES.join(', ')}.`,
      });
  }
  if (filters.since) checked.since = queryTime('since', filters.since, now, causes);
  if (filters.until) checked.until = queryTime('until', filters.until, now, causes);
  const limit = queryLimit(filters.limit, MAX_EXECUTION_PAGE, DEFAULT_EXECUTION_PAGE, causes, 'before');
  if (filters.before) {
    if (CURSOR.test(filters.before) && cursorTime(filters.before) <= now.getTime() + 86_400_000)
      checked.before = filters.before;
    else
      causes.push({
        code: 'DVM_QUERY_INVALID',
        path: 'before',
        message: `before "${filters.before.slice(0, 40)}" is not an execution id`,
        fix: 'Pass the `next` of the previous page as it came.',
      });
  }
  return { ...checked, limit: limit as number };
}

/** Checks every filter's value (status, RFC 3339 times or durations, limit, cursor); DVM_QUERY_INVALID lists all. */
export function checkExecutionFilters(filters: ExecutionFilters, now: Date): CheckedExecutionFilters {
  const causes: ErrorCause[] = [];
  const checked = checkInto(filters, now, causes);
  if (causes.length > 0) throw invalid(causes);
  return checked;
}

/**
 * Reads the query string of `GET /v1/executions` strictly: an unknown parameter (with the known ones), a repeated
 * one and every bad value are DVM_QUERY_INVALID, all of them listed in one error.
 */
export function executionFiltersOf(query: Record<string, unknown>, now: Date): CheckedExecutionFilters {
  const causes = [...unknownOrRepeatedParams(query, KNOWN), ...emptyParams(query, KNOWN)];
  const given = Object.fromEntries(
    Object.entries(query).filter(([name, value]) => KNOWN.includes(name) && typeof value === 'string'),
  );
  const checked = checkInto(given, now, causes);
  if (causes.length > 0) throw invalid(causes);
  return checked;
}

// Execution ids start with `x` and the creation time in base 36, eight digits from 1972 to 2059
// (newExecutionId), so a time filter is also a range of the primary key: the scan stops at its end instead of
// reading every older row. Outside those years there is no such bound, and created_at alone decides.
function idAt(ms: number): string | undefined {
  const digits = Math.floor(ms).toString(36);
  return digits.length === 8 ? `x${digits}` : undefined;
}

function summaryOf({ error_code, ...row }: Row): ExecutionSummary {
  return { ...recordOf(row), ...(error_code ? { error_code } : {}) };
}

function matches(record: ExecutionRecord, filters: CheckedExecutionFilters): boolean {
  return (
    EQUAL.every((name) => filters[name] === undefined || record[name] === filters[name]) &&
    (filters.status === undefined || record.status === filters.status) &&
    (filters.since === undefined || record.created_at >= filters.since) &&
    (filters.until === undefined || record.created_at <= filters.until) &&
    (filters.before === undefined || record.id < filters.before)
  );
}

/** The SQL of one page (newest first, one row more than the page, to tell whether another follows) and its parameters. */
export function executionListQuery(filters: CheckedExecutionFilters): {
  sql: string;
  params: SQLInputValue[];
} {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (condition: string, value: SQLInputValue | undefined) => {
    if (value === undefined) return;
    where.push(condition);
    params.push(value);
  };
  for (const name of EQUAL) add(`${name} = ?`, filters[name]);
  add('status = ?', filters.status);
  add('created_at >= ?', filters.since);
  add('created_at <= ?', filters.until);
  if (filters.since) add('id >= ?', idAt(Date.parse(filters.since) - ID_TIME_SLACK_MS));
  if (filters.until) add('id < ?', idAt(Date.parse(filters.until) + ID_TIME_SLACK_MS));
  add('id < ?', filters.before);
  const sql = `SELECT id, request_id, principal, action, version, env, target, status, created_at, finished_at,
      json_extract(error, '$.code') AS error_code
    FROM executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  return { sql, params: [...params, filters.limit + 1] };
}

/**
 * A page of executions, newest first (by their time-ordered id), matching every filter. `live` are executions
 * running in this process that may not be stored yet (a read that answers at once is stored when it ends): they
 * are listed as running among the stored ones.
 */
export function queryExecutions(
  db: DatabaseSync,
  filters: CheckedExecutionFilters,
  live: readonly ExecutionRecord[] = [],
): ExecutionPage {
  const { sql, params } = executionListQuery(filters);
  const rows = statement(db, sql).all(...params) as unknown as Row[];
  const { limit } = filters;
  const found = rows.map(summaryOf);
  const stored = new Set(found.map((s) => s.id));
  for (const record of live) {
    if (stored.has(record.id) || !matches(record, filters)) continue;
    const { result: _result, error: _error, ...summary } = record;
    found.push(summary);
  }
  found.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const executions = found.slice(0, limit);
  return found.length > limit
    ? { items: executions, next: executions[executions.length - 1].id }
    : { items: executions };
}
