import { AUDIT_QUERY_PARAMS } from '../audit/audit-query.ts';
import type { Role } from '../auth/principal.ts';

/** One route of the agent API: what the OpenAPI document, the auth hook and the route-walk test all read. */
export interface RouteSpec {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  /** Least role that may call it; `public` routes need no token. */
  role: Role | 'public';
  /** Responses besides the error ones, for OpenAPI. */
  responses: Record<string, string>;
  requestBody?: Record<string, unknown>;
  query?: Readonly<Record<string, string>>;
}

/** Every route of the agent API. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'GET',
    url: '/v1/health',
    summary: 'Readiness of each connector (store, docker, kubernetes, jvm, git); no token needed.',
    role: 'public',
    responses: {
      '200': 'ok, or degraded: the store is ok, some connector is not (the body says which)',
      '503': 'the store is not available',
    },
  },
  {
    method: 'GET',
    url: '/v1/actions',
    summary: 'The action catalog: names, versions, risk, timeouts, input and output schemas.',
    role: 'viewer',
    responses: { '200': 'the catalog' },
  },
  {
    method: 'POST',
    url: '/v1/actions/execute',
    summary:
      'Run an action: validate, policy, confirmation, idempotency, run, audit. 200 result, 202 long-running, 428 confirmation challenge, 403 denied, 422 invalid, 409 conflict.',
    role: 'viewer',
    responses: {
      '200': 'the result (or a dry-run decision)',
      '202': 'accepted: follow /v1/executions/{id}/events',
      '428': 'confirmation required: details.challenge.confirmation_token',
    },
  },
  {
    method: 'POST',
    url: '/v1/confirmations/lookup',
    summary:
      'What a pending confirmation is for — action, version, redacted params, target, request_id, requested_by, expires_at — before approving it (the token goes in the body, never the URL).',
    role: 'operator',
    responses: { '200': 'the pending confirmation' },
    requestBody: {
      type: 'object',
      required: ['confirmation_token'],
      properties: { confirmation_token: { type: 'string' } },
    },
  },
  {
    method: 'POST',
    url: '/v1/confirmations/approve',
    summary:
      "A second principal approves another principal's pending confirmation (no self-approval); answers what it approved. Every attempt is audited.",
    role: 'operator',
    responses: { '200': 'approved' },
    requestBody: {
      type: 'object',
      required: ['confirmation_token'],
      properties: { confirmation_token: { type: 'string' } },
    },
  },
  {
    method: 'GET',
    url: '/v1/executions/:id',
    summary: 'Status and result of an execution (your own; admins see all).',
    role: 'viewer',
    responses: { '200': 'the execution' },
  },
  {
    method: 'GET',
    url: '/v1/executions/:id/events',
    summary:
      'Server-Sent Events of an execution: started, progress, log, truncated (once log lines pass the output cap), completed/failed; Last-Event-ID resumes.',
    role: 'viewer',
    responses: { '200': 'text/event-stream' },
    query: {
      last_event_id:
        'resume after this event id, a decimal integer (same as the Last-Event-ID header, which wins); anything else is DVM_EVENT_ID_INVALID (400)',
    },
  },
  {
    method: 'GET',
    url: '/v1/audit',
    summary:
      'Audit entries, oldest first, filtered (exact matches, combined with AND) and paged (admin); an unknown or repeated parameter is DVM_QUERY_INVALID (400).',
    role: 'admin',
    responses: { '200': '{items, next}' },
    query: AUDIT_QUERY_PARAMS,
  },
  {
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics.',
    role: 'viewer',
    responses: { '200': 'text/plain exposition format' },
  },
  {
    method: 'GET',
    url: '/v1/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document.',
    role: 'viewer',
    responses: { '200': 'the document' },
  },
];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `role` is at least `least`. */
export function roleAtLeast(role: Role, least: Role): boolean {
  return RANK[role] >= RANK[least];
}
