import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics of one agent server (its own registry, so tests can run several servers). */
export interface AgentMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'route'>;
  executions: Counter<'action' | 'outcome'>;
  sseClients: Gauge;
}

/** Creates the metrics of an agent server, with Node's default process metrics. */
export function createMetrics(): AgentMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dvm_' });
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
  };
}
