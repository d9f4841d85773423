import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentServices } from './agent-services.ts';

/** The Prometheus metrics of one agent server (its own registry, so tests can run several servers). */
export interface AgentMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'route'>;
  executions: Counter<'action' | 'outcome'>;
  sseClients: Gauge;
  /** Event streams refused, by the limit met: `server` (agent.limits.streams) or `per_principal` (.streams_per_principal). */
  sseRejected: Counter<'limit'>;
  connections: Gauge;
  /**
   * Connections answered 503 DVM_AGENT_BUSY and closed, by the limit met: `server` (agent.limits.connections) or
   * `per_address` (.connections_per_address).
   */
  connectionsRejected: Counter<'limit'>;
  /** Idle connections closed to make room for a new one at agent.limits.connections. */
  connectionsEvicted: Counter;
  executionsRunning: Gauge;
  storeCommitDuration: Histogram;
  storeWrites: Counter;
  auditAlerts: Counter<'rule' | 'outcome'>;
}

/**
 * Creates the metrics of an agent server, with Node's default process metrics; `running` counts the executions the
 * agent runs now, `connections` the connections the server holds, and `policy` gives the policies in force and
 * whether the last reload was refused (all read when the metrics are scraped).
 */
export function createMetrics(
  running: () => number = () => 0,
  connections: () => number = () => 0,
  policy?: AgentServices['policy'],
): AgentMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dvm_' });
  if (policy) {
    new Gauge({
      name: 'dvm_policies_loaded',
      help: 'Cedar policies in force (the shipped default and DVM_HOME/policies/*.cedar).',
      registers: [registry],
      collect() {
        this.set(policy.policies().length);
      },
    });
    new Gauge({
      name: 'dvm_policy_reload_failing',
      help: "1 when the last reload of the policy files was refused (DVM_POLICY_INVALID in serve's log; the policies loaded before stay in force), else 0.",
      registers: [registry],
      collect() {
        this.set(policy.reloadProblem === undefined ? 0 : 1);
      },
    });
  }
  const sseRejected = limitCounter(
    registry,
    'dvm_sse_streams_rejected_total',
    'Event streams refused 429 DVM_TOO_MANY_STREAMS, by the limit met: server (config.yaml agent.limits.streams were open) or per_principal (the principal held agent.limits.streams_per_principal).',
    ['server', 'per_principal'],
  );
  const connectionsRejected = limitCounter(
    registry,
    'dvm_agent_connections_rejected_total',
    'Connections answered 503 DVM_AGENT_BUSY and closed, by the limit met: server (config.yaml agent.limits.connections were open and busy) or per_address (the client address held agent.limits.connections_per_address, each busy).',
    ['server', 'per_address'],
  );
  return {
    registry,
    httpRequests: new Counter({
      name: 'dvm_http_requests_total',
      help: 'HTTP requests answered, by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'dvm_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    executions: new Counter({
      name: 'dvm_action_requests_total',
      help: 'Execute requests by action and answer status (200, 202, 403, 428, …).',
      labelNames: ['action', 'outcome'],
      registers: [registry],
    }),
    sseClients: new Gauge({
      name: 'dvm_sse_clients',
      help: 'Open Server-Sent Events streams.',
      registers: [registry],
    }),
    sseRejected,
    connections: new Gauge({
      name: 'dvm_agent_connections',
      help: 'Connections the agent API holds open (at most config.yaml agent.limits.connections, and .connections_per_address from one client address).',
      registers: [registry],
      collect() {
        this.set(connections());
      },
    }),
    connectionsRejected,
    connectionsEvicted: new Counter({
      name: 'dvm_agent_connections_evicted_total',
      help: 'Idle connections (between requests, or still sending headers) closed to make room at agent.limits.connections or .connections_per_address.',
      registers: [registry],
    }),
    executionsRunning: new Gauge({
      name: 'dvm_executions_running',
      help: 'Action executions this agent runs now.',
      registers: [registry],
      collect() {
        this.set(running());
      },
    }),
    storeCommitDuration: new Histogram({
      name: 'dvm_store_commit_duration_seconds',
      help: 'Time to commit one group of audit, execution and request-id writes, fsync included (answers wait for it).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    auditAlerts: new Counter({
      name: 'dvm_audit_alerts_total',
      help: 'Audit alerts (config.yaml agent.alerts) by rule and outcome: sent, failed, dropped (too many waiting).',
      labelNames: ['rule', 'outcome'],
      registers: [registry],
    }),
    storeWrites: new Counter({
      name: 'dvm_store_writes_total',
      help: 'Writes committed to the agent database (the commit count is dvm_store_commit_duration_seconds_count).',
      registers: [registry],
    }),
  };
}

// A counter of refusals by the `limit` met, each of `limits` at 0 from the start: a scrape before any refusal shows
// them.
function limitCounter(registry: Registry, name: string, help: string, limits: string[]): Counter<'limit'> {
  const counter = new Counter({ name, help, labelNames: ['limit'], registers: [registry] });
  for (const limit of limits) counter.inc({ limit }, 0);
  return counter;
}
