import type { ConnectorHealth } from '../../actions/connectors.ts';
import type { AuditAlerts } from '../audit/audit-alerts.ts';
import type { AuditFilters } from '../audit/audit-query.ts';
import type { Confirmations } from '../auth/confirmations.ts';
import type { TokenStore } from '../auth/tokens.ts';
import type { ActionExecutor } from '../execute/execute.ts';
import type { Executions } from '../execute/executions.ts';
import type { AuditSink } from '../execute/types.ts';
import type { GroupCommitter } from '../store/group-commit.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import type { RequestRate } from './rate-limit.ts';

export type { ConnectorHealth };

/**
 * `GET /v1/health`: `ok` when every connector is, `degraded` when the store is but some connector is not (the
 * API still serves; actions of that connector fail with DVM_CONNECTOR_UNAVAILABLE), `unavailable` without a store.
 * Callers without a valid token get each detail generic (anonymousHealth).
 */
export interface HealthReport {
  status: 'ok' | 'degraded' | 'unavailable';
  connectors: Record<string, ConnectorHealth>;
}

/** Audit queries the API serves (filters read strictly from the query string by auditFiltersOf). */
export interface AuditReader extends AuditSink {
  query(filters: AuditFilters): unknown;
}

/** What the HTTP server needs from the agent. */
export interface AgentServices {
  executor: ActionExecutor;
  tokens: TokenStore;
  confirmations: Confirmations;
  executions: Executions;
  audit: AuditReader;
  /** The agent database's group committer (its commits are measured). */
  writer?: GroupCommitter;
  /**
   * Each principal's request rate (`agent.limits.requests_per_second`), read on every request (a reloaded config.yaml
   * changes it); unlimited when absent.
   */
  readonly requestRate?: RequestRate;
  /**
   * The connections and event streams held open at most (`agent.limits.connections`, `.connections_per_address`,
   * `.streams`, `.streams_per_principal`), read for each new connection and stream (a reloaded config.yaml changes them); the
   * defaults when absent.
   */
  readonly connectionLimits?: ConnectionLimits;
  /** `agent.allowed_hosts`, read on every request (see host-check.ts); unset when absent. */
  readonly allowedHosts?: readonly string[];
  /** The audit alerts of `agent.alerts` (their outcomes are counted). */
  alerts?: Pick<AuditAlerts, 'onOutcome'>;
  health(): Promise<HealthReport>;
  /** The policies in force, and why the last reload was refused if it was (both shown in /metrics). */
  policy?: { policies(): readonly unknown[]; readonly reloadProblem: string | undefined };
}
