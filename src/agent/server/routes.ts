import type { ErrorCode } from '../../errors/codes.ts';
import { AUDIT_QUERY_PARAMS } from '../audit/audit-query.ts';
import type { Role } from '../auth/principal.ts';
import { EXECUTION_QUERY_PARAMS } from '../execute/execution-query.ts';
import { RUN_ERRORS } from './run-errors.ts';

/** One route of the agent API: what the OpenAPI document, the auth hook and the route-walk test all read. */
export interface RouteSpec {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  /** Least role that may call it; `public` routes need no token. */
  role: Role | 'public';
  /** On a public route: what a valid bearer token (of any role) adds to the answer; OpenAPI makes the token optional. */
  withToken?: string;
  /** Responses besides the error ones, for OpenAPI. */
  responses: Record<string, string>;
  /** The bodies of those responses: a media type and its schema (default: a JSON object). */
  content?: Record<string, { type: string; schema: Record<string, unknown> }>;
  /**
   * The error codes the route itself answers with, besides the token and role ones every non-public route has;
   * OpenAPI lists each under its HTTP status from the taxonomy.
   */
  errors?: readonly ErrorCode[];
  requestBody?: Record<string, unknown>;
  query?: Readonly<Record<string, string>>;
  /**
   * Who checks the query string: by default the server, refusing a parameter not in `query` or given twice
   * (DVM_QUERY_INVALID); `route`: the handler, which lists every problem at once; `none`: nobody, unknown parameters
   * are ignored (probes and scrapers add their own).
   */
  queryCheck?: 'route' | 'none';
  /** Request headers the route reads, with what they mean. */
  headers?: Readonly<Record<string, string>>;
}

// What every route that reads a JSON body may answer before its handler runs.
const BODY_ERRORS: readonly ErrorCode[] = [
  'DVM_REQUEST_MALFORMED',
  'DVM_REQUEST_TOO_LARGE',
  'DVM_REQUEST_FORBIDDEN_KEY',
];

const HEALTH_REPORT = {
  type: 'object',
  required: ['status', 'connectors'],
  properties: {
    status: {
      type: 'string',
      enum: ['ok', 'degraded', 'unavailable'],
      description:
        'ok: every connector is ok; degraded: the store is ok, another connector is not; unavailable: no store',
    },
    connectors: {
      type: 'object',
      description: 'store, git, docker, kubernetes, jvm',
      additionalProperties: {
        type: 'object',
        required: ['status', 'detail'],
        properties: {
          status: { type: 'string', enum: ['ok', 'unavailable', 'error'] },
          detail: {
            type: 'string',
            description:
              'with a valid bearer token (any role): what the check found (versions, endpoints, kubeconfig file, the error); without one, or with one that does not authenticate: only "ok", "not available" or "failing", followed by "(send a bearer token for details)"',
          },
        },
      },
    },
  },
};

// How a body names a confirmation: the requester's token, or its id from GET /v1/confirmations (or 8+ digits of it).
const CONFIRMATION_REF = {
  type: 'object',
  properties: {
    confirmation_token: { type: 'string', description: 'dvmc_… from the 428 challenge' },
    confirmation_id: { type: 'string', description: 'its id, or a unique prefix of 8 or more hex digits' },
  },
  oneOf: [{ required: ['confirmation_token'] }, { required: ['confirmation_id'] }],
};

const PENDING_CONFIRMATION = {
  type: 'object',
  required: ['requested_by', 'approval', 'expires_at'],
  properties: {
    action: { type: 'string' },
    version: { type: 'string' },
    params: { description: 'redacted' },
    target: { type: 'object' },
    request_id: { type: 'string' },
    requested_by: { type: 'string' },
    approval: { type: 'string', enum: ['self', 'other-principal'] },
    expires_at: { type: 'string', format: 'date-time' },
    approved_by: { type: 'string' },
  },
};

const EXECUTION_RECORD = {
  type: 'object',
  required: ['id', 'principal', 'action', 'version', 'status', 'created_at'],
  properties: {
    id: { type: 'string' },
    request_id: { type: 'string' },
    principal: { type: 'string' },
    action: { type: 'string' },
    version: { type: 'string' },
    env: { type: 'string' },
    target: { type: 'object' },
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'interrupted'] },
    result: { description: 'what the action returned (redacted)' },
    error: { $ref: '#/components/schemas/Error' },
    created_at: { type: 'string', format: 'date-time' },
    finished_at: { type: 'string', format: 'date-time' },
  },
};

// One row of `GET /v1/executions`: the record without its result (and the error as its code).
const EXECUTION_SUMMARY = {
  type: 'object',
  required: ['id', 'principal', 'action', 'version', 'status', 'created_at'],
  properties: {
    ...(({ result: _result, error: _error, ...rest }) => rest)(EXECUTION_RECORD.properties),
    error_code: { type: 'string', description: 'the code a failed or interrupted execution ended with' },
  },
};

const json = (schema: Record<string, unknown>) => ({ type: 'application/json', schema });

/** Every route of the agent API. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'GET',
    url: '/v1/health',
    summary:
      'Readiness of each connector (store, docker, kubernetes, jvm, git); no token needed. Without a valid token each connector has its status and a generic detail (no paths, URLs, hosts, versions or error text); a token that does not authenticate is not refused, it gets that view too (and is audited denied). The HTTP status is the same either way.',
    role: 'public',
    withToken:
      "each connector's full detail: versions, the Docker endpoint, the Kubernetes server and kubeconfig file, the error messages",
    responses: {
      '200': 'ok, or degraded: the store is ok, some connector is not (the body says which)',
      '503': 'the store is not available',
    },
    content: { '200': json(HEALTH_REPORT), '503': json(HEALTH_REPORT) },
    queryCheck: 'none',
  },
  {
    method: 'GET',
    url: '/v1/actions',
    summary: 'The action catalog: names, versions, risk, timeouts, input and output schemas.',
    role: 'viewer',
    responses: { '200': 'the catalog' },
    content: {
      '200': json({
        type: 'object',
        required: ['actions'],
        properties: {
          actions: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'version', 'risk', 'timeouts', 'input_schema', 'output_schema'],
              properties: {
                name: { type: 'string' },
                version: { type: 'string' },
                description: { type: 'string' },
                risk: { type: 'string', enum: ['read', 'write', 'destructive'] },
                timeouts: {
                  type: 'object',
                  properties: { defaultMs: { type: 'integer' }, maxMs: { type: 'integer' } },
                },
                input_schema: { type: 'object' },
                output_schema: { type: 'object' },
              },
            },
          },
        },
      }),
    },
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
    },
    content: {
      '200': json({
        oneOf: [
          {
            type: 'object',
            description: 'the action ran: its result (read actions: {summary, artifact}), redacted',
            required: [
              'execution_id',
              'request_id',
              'status',
              'action',
              'version',
              'risk',
              'target',
              'result',
            ],
            properties: {
              execution_id: { type: 'string' },
              request_id: { type: 'string' },
              status: { const: 'succeeded' },
              action: { type: 'string' },
              version: { type: 'string' },
              risk: { enum: ['read', 'write', 'destructive'] },
              target: { type: 'object', required: ['env'] },
              duration_ms: { type: 'number' },
              result: { description: "the action's output, as its output_schema in GET /v1/actions says" },
            },
          },
          {
            type: 'object',
            description: 'a dry run: validated and decided, nothing ran',
            required: [
              'dry_run',
              'run_decision',
              'request_id',
              'action',
              'version',
              'risk',
              'target',
              'params',
              'decision',
              'policy_ids',
            ],
            properties: {
              dry_run: { const: true },
              run_decision: {
                enum: ['allow', 'confirm', 'deny'],
                description:
                  'what running it for real would meet: allowed at once, a confirmation, or a refusal',
              },
              run_approval: {
                enum: ['self', 'other-principal'],
                description:
                  'with confirm: who confirms (other-principal: a second principal approves first)',
              },
              request_id: { type: 'string' },
              action: { type: 'string' },
              version: { type: 'string' },
              risk: { enum: ['read', 'write', 'destructive'] },
              target: { type: 'object', required: ['env'] },
              params: {
                type: 'object',
                description: 'the params after validation (defaults filled in), redacted',
              },
              decision: { const: 'allow' },
              policy_ids: { type: 'array', items: { type: 'string' } },
            },
          },
        ],
      }),
      '202': json({
        type: 'object',
        required: ['execution_id', 'request_id', 'status', 'action', 'version', 'events'],
        properties: {
          execution_id: { type: 'string' },
          request_id: { type: 'string' },
          status: { const: 'running' },
          action: { type: 'string' },
          version: { type: 'string' },
          events: { type: 'string', description: 'the path of its Server-Sent Events' },
        },
      }),
    },
    // An action's own failure answers with its code (DVM_CONNECTOR_UNAVAILABLE, DVM_TIMEOUT, …): RUN_ERRORS.
    errors: [
      ...BODY_ERRORS,
      'DVM_REQUEST_TOO_DEEP',
      'DVM_REQUEST_INVALID',
      'DVM_ACTION_UNKNOWN',
      'DVM_ACTION_INPUT_INVALID',
      'DVM_CONFIRMATION_REQUIRED',
      'DVM_CONFIRMATION_INVALID',
      'DVM_IDEMPOTENCY_CONFLICT',
      'DVM_EXECUTION_INTERRUPTED',
      'DVM_TOO_MANY_RUNNING',
      ...RUN_ERRORS,
    ],
  },
  {
    method: 'GET',
    url: '/v1/confirmations',
    summary:
      'The confirmations waiting for a second principal (two-person rule; unused, unexpired, not approved yet), newest first, at most 100: what each would run (redacted params), for whom, until when, and its id — never its token — by which POST /v1/confirmations/approve names it. Any query parameter is DVM_QUERY_INVALID.',
    role: 'operator',
    responses: { '200': '{items}' },
    content: {
      '200': json({
        type: 'object',
        required: ['items'],
        properties: {
          items: {
            type: 'array',
            items: {
              ...PENDING_CONFIRMATION,
              required: [...PENDING_CONFIRMATION.required, 'id', 'created_at'],
              properties: {
                id: { type: 'string', description: 'SHA-256 of the token (hex); it cannot be used to run' },
                created_at: { type: 'string' },
                ...PENDING_CONFIRMATION.properties,
              },
            },
          },
        },
      }),
    },
    errors: ['DVM_QUERY_INVALID'],
  },
  {
    method: 'POST',
    url: '/v1/confirmations/lookup',
    summary:
      'What a pending confirmation is for — action, version, redacted params, target, request_id, requested_by, expires_at — before approving it (the token or id goes in the body, never the URL).',
    role: 'operator',
    responses: { '200': 'the pending confirmation' },
    content: { '200': json(PENDING_CONFIRMATION) },
    errors: [...BODY_ERRORS, 'DVM_REQUEST_INVALID', 'DVM_CONFIRMATION_INVALID'],
    requestBody: CONFIRMATION_REF,
  },
  {
    method: 'POST',
    url: '/v1/confirmations/approve',
    summary:
      "A second principal approves another principal's pending confirmation (no self-approval; DVM_FORBIDDEN when the policy would not let the approver run that action itself); answers what it approved. Every attempt is audited.",
    role: 'operator',
    responses: { '200': 'approved' },
    content: {
      '200': json({
        ...PENDING_CONFIRMATION,
        required: [...PENDING_CONFIRMATION.required, 'approved', 'approved_by'],
        properties: {
          approved: { const: true },
          repeated: {
            const: true,
            description: 'this principal had approved it already (a retry): nothing changed',
          },
          ...PENDING_CONFIRMATION.properties,
        },
      }),
    },
    errors: [...BODY_ERRORS, 'DVM_REQUEST_INVALID', 'DVM_CONFIRMATION_INVALID', 'DVM_FORBIDDEN'],
    requestBody: CONFIRMATION_REF,
  },
  {
    method: 'GET',
    url: '/v1/executions',
    summary:
      'Executions, newest first, filtered (exact matches, combined with AND) and paged with `before`: your own; admins see all and may filter by principal. An unknown, repeated or badly written parameter is DVM_QUERY_INVALID (400), every problem listed; a principal other than your own, unless you are an admin, is DVM_FORBIDDEN (403).',
    role: 'viewer',
    responses: { '200': '{items, next}' },
    content: {
      '200': json({
        type: 'object',
        required: ['items'],
        properties: {
          items: { type: 'array', items: EXECUTION_SUMMARY },
          next: { type: 'string', description: 'the cursor of the next page (`before`), when there is one' },
        },
      }),
    },
    errors: ['DVM_QUERY_INVALID'],
    query: EXECUTION_QUERY_PARAMS,
    queryCheck: 'route',
  },
  {
    method: 'GET',
    url: '/v1/executions/:id',
    summary: 'Status and result of an execution (your own; admins see all).',
    role: 'viewer',
    responses: { '200': 'the execution' },
    content: { '200': json(EXECUTION_RECORD) },
    errors: ['DVM_EXECUTION_NOT_FOUND'],
  },
  {
    method: 'POST',
    url: '/v1/executions/:id/cancel',
    summary:
      'Cancel a running execution (your own; admins any): its action is stopped and the execution ends failed with DVM_CANCELLED; answers it once that end is recorded. Only the process running it can: one that ended is 409 DVM_EXECUTION_ENDED, one another process runs 409 DVM_EXECUTION_ELSEWHERE. Every attempt is audited.',
    role: 'viewer',
    responses: { '200': 'the ended execution' },
    content: { '200': json(EXECUTION_RECORD) },
    // No body is read; one that is sent is still parsed.
    errors: [...BODY_ERRORS, 'DVM_EXECUTION_NOT_FOUND', 'DVM_EXECUTION_ENDED', 'DVM_EXECUTION_ELSEWHERE'],
  },
  {
    method: 'GET',
    url: '/v1/executions/:id/events',
    summary:
      'Server-Sent Events of an execution: started, progress, log, truncated (once log lines pass the output cap), completed/failed; a stream cut short ends with `closed` (no id; data: the error body, DVM_UNAUTHENTICATED or DVM_AGENT_STOPPING); Last-Event-ID resumes; 204 when the execution ended and nothing comes after Last-Event-ID; 429 DVM_TOO_MANY_STREAMS when agent.limits.streams are open, or the caller holds agent.limits.streams_per_principal of them (details.scope: server or per_principal).',
    role: 'viewer',
    responses: {
      '200': 'text/event-stream',
      '204': 'the execution ended and every event was sent already (an EventSource stops reconnecting)',
    },
    content: {
      '200': {
        type: 'text/event-stream',
        schema: {
          type: 'string',
          description:
            'events `id: N`, `event: started|progress|log|truncated|completed|failed`, `data: {json}`; a last `event: closed` without id when the stream is cut short; comments keep it alive',
        },
      },
    },
    errors: ['DVM_EXECUTION_NOT_FOUND', 'DVM_EVENT_ID_INVALID', 'DVM_QUERY_INVALID', 'DVM_TOO_MANY_STREAMS'],
    headers: {
      'Last-Event-ID':
        'resume after this event id, a decimal integer (what EventSource sends on a reconnect); empty starts from the beginning; anything else is DVM_EVENT_ID_INVALID (400)',
    },
    query: {
      last_event_id:
        'resume after this event id, a decimal integer (same as the Last-Event-ID header, which wins); anything else is DVM_EVENT_ID_INVALID (400)',
      follow:
        '`false`: end the stream once the events so far are sent; `true` (the default): stream until the execution ends; anything else is DVM_QUERY_INVALID (400)',
    },
  },
  {
    method: 'GET',
    url: '/v1/audit',
    summary:
      'Audit entries, oldest first, filtered (exact matches, combined with AND) and paged (admin); an unknown or repeated parameter is DVM_QUERY_INVALID (400).',
    role: 'admin',
    responses: { '200': '{items, next, head}' },
    content: {
      '200': json({
        type: 'object',
        required: ['items', 'head'],
        properties: {
          items: { type: 'array', items: { type: 'object' } },
          next: { type: 'string', description: 'the cursor of the next page (`after`), when there is one' },
          head: {
            type: 'integer',
            description:
              "the seq of the log's last entry (0 when empty): `after` it, a follower gets only new entries",
          },
        },
      }),
    },
    errors: ['DVM_QUERY_INVALID'],
    query: AUDIT_QUERY_PARAMS,
    queryCheck: 'route',
  },
  {
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics.',
    role: 'viewer',
    responses: { '200': 'text/plain exposition format' },
    content: { '200': { type: 'text/plain', schema: { type: 'string' } } },
    queryCheck: 'none',
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
