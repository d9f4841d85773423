import { execFile } from 'node:child_process';
import type { DatabaseSync } from 'node:sqlite';
import type { ConnectorHealth, HealthCheck } from '../actions/connectors.ts';
import type { HealthReport } from './server/agent-services.ts';
import type { GroupCommitter } from './store/group-commit.ts';
import { statement } from './store/statements.ts';

export type { HealthCheck };

const CHECK_TIMEOUT_MS = 2000;
/** How long after a failed write the store reads as unavailable. */
export const WRITE_FAILURE_HOLD_MS = 10_000;

/** Readiness of the agent database: readable, and its writes not failing (disk full, I/O errors) lately. */
export function storeHealth(db: DatabaseSync, writer?: GroupCommitter): HealthCheck {
  return async () => {
    try {
      statement(db, 'SELECT 1 FROM tokens LIMIT 1').get();
      // Writes failed lately (disk full?): unavailable, so a load balancer drains the agent; a while after the last
      // failure it is offered traffic again, and stays if its writes then succeed (no probe write could stand in
      // for a real batch: one page may fit where a batch does not).
      const failure = writer?.failure;
      if (failure && Date.now() - failure.lastAt < WRITE_FAILURE_HOLD_MS) {
        return {
          status: 'unavailable',
          detail: `agent database cannot be written (since ${failure.since}): ${failure.message}`,
        };
      }
      return { status: 'ok', detail: 'agent database readable' };
    } catch (error) {
      return { status: 'error', detail: `agent database: ${(error as Error).message}` };
    }
  };
}

/** Readiness of git: its version, or why it cannot run. */
export function gitHealth(env: Record<string, string>): HealthCheck {
  return () =>
    new Promise((resolve) => {
      execFile('git', ['--version'], { env, timeout: CHECK_TIMEOUT_MS }, (error, stdout) => {
        resolve(
          error
            ? { status: 'unavailable', detail: `git: ${error.message}` }
            : { status: 'ok', detail: stdout.trim() },
        );
      });
    });
}

// A check that takes too long counts as unavailable.
async function bounded(check: HealthCheck): Promise<ConnectorHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().catch((error: Error) => ({ status: 'error' as const, detail: error.message })),
      new Promise<ConnectorHealth>((resolve) => {
        timer = setTimeout(
          () => resolve({ status: 'unavailable', detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long connector results are reused: probes may poll health often; the checks spawn and connect. */
export const HEALTH_CACHE_MS = 2000;

/**
 * A health reporter that checks the store on every call and the other connectors at most every `cacheMs`
 * (concurrent callers share one round of checks). Once a round has finished, callers get its results at once while
 * the next round runs: a connector that hangs (a daemon that accepts and never answers) never makes health wait its
 * timeout, which would have a load balancer's probe give up and drain the agent. Only the first call waits.
 */
export function cachedHealth(
  checks: Record<string, HealthCheck>,
  cacheMs = HEALTH_CACHE_MS,
): () => Promise<HealthReport> {
  const { store, ...connectors } = checks;
  let settled: { at: number; report: HealthReport } | undefined;
  let round: Promise<HealthReport> | undefined;
  const refresh = () => {
    round ??= checkHealth(connectors)
      .then((report) => {
        settled = { at: Date.now(), report };
        return report;
      })
      .finally(() => {
        round = undefined;
      });
    return round;
  };
  return async () => {
    if (!settled || Date.now() - settled.at > cacheMs) void refresh().catch(() => {});
    const [storeResult, cached] = await Promise.all([
      store ? bounded(store) : undefined,
      settled?.report ?? refresh(),
    ]);
    return summarize({ ...(storeResult ? { store: storeResult } : {}), ...cached.connectors });
  };
}

// The report of these connectors: unavailable without a working store, degraded when any other check fails.
function summarize(connectors: Record<string, ConnectorHealth>): HealthReport {
  const results = Object.values(connectors);
  const status =
    connectors.store?.status !== 'ok'
      ? 'unavailable'
      : results.every((r) => r.status === 'ok')
        ? 'ok'
        : 'degraded';
  return { status, connectors };
}

/** Runs every connector check in parallel; the report is `unavailable` without a store. */
export async function checkHealth(checks: Record<string, HealthCheck>): Promise<HealthReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => bounded(checks[name])));
  return summarize(Object.fromEntries(names.map((name, i) => [name, results[i]])));
}

// What an unauthenticated caller reads of a connector, by status: nothing that names a path, URL, host, version or
// error text.
const ANONYMOUS_DETAIL: Record<ConnectorHealth['status'], string> = {
  ok: 'ok',
  unavailable: 'not available',
  error: 'failing',
};

/** Said after each detail of the anonymous view: a token shows more. */
export const DETAILS_NEED_TOKEN = '(send a bearer token for details)';

/**
 * The report as a caller without a valid token sees it (load balancers, as Vault's sys/health and Kubernetes'
 * /readyz answer them): the same statuses, and for each connector a generic detail instead of its paths, URLs,
 * versions and error messages.
 */
export function anonymousHealth(report: HealthReport): HealthReport {
  return {
    status: report.status,
    connectors: Object.fromEntries(
      Object.entries(report.connectors).map(([name, { status }]) => [
        name,
        { status, detail: `${ANONYMOUS_DETAIL[status] ?? 'unknown'} ${DETAILS_NEED_TOKEN}` },
      ]),
    ),
  };
}
