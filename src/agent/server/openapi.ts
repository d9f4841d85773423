import { ERROR_CODES, type ErrorCode } from '../../errors/codes.ts';
import { EXECUTE_REQUEST_SCHEMA } from '../execute/validate-request.ts';
import { RETRY_AFTER_SECONDS, retryAfterSeconds } from './retry-after.ts';
import { ROUTES, type RouteSpec } from './routes.ts';

// What every route that needs a token may answer before it runs (health answers its report, 503, while stopping).
const AUTH_ERRORS: readonly ErrorCode[] = [
  'DVM_UNAUTHENTICATED',
  'DVM_FORBIDDEN',
  'DVM_RATE_LIMITED',
  'DVM_AGENT_STOPPING',
];

// The error responses of a route, one per HTTP status of its codes (as the taxonomy maps them), each naming its codes.
function errorResponses(route: RouteSpec): Record<string, unknown> {
  const codes = [
    ...(route.role === 'public' ? [] : AUTH_ERRORS),
    ...(route.queryCheck === undefined ? ['DVM_QUERY_INVALID' as const] : []),
    ...(route.errors ?? []),
    ...ANY_ROUTE_ERRORS.filter((code) => code !== 'DVM_ROUTE_NOT_FOUND'),
  ];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_CODES[code].http;
    // A status the route answers with its own body (health's 503 is its report) keeps that body's entry.
    if (route.responses[String(status)] !== undefined) continue;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((code) => `${code}: ${ERROR_CODES[code].summary}`).join(' '),
        'x-dvm-error-codes': list,
        ...(list.some((code) => retryAfterSeconds(code) !== undefined)
          ? { headers: RETRY_AFTER_HEADER }
          : {}),
        content: { 'application/json': { schema: errorSchemaFor(route, status) } },
      },
    ]),
  );
}

// On the refusals that may be sent again unchanged (retry-after.ts).
const RETRY_AFTER_HEADER = {
  'Retry-After': {
    description: `Seconds to wait before sending the same request again (on ${Object.keys(RETRY_AFTER_SECONDS).join(', ')}).`,
    schema: { type: 'integer', minimum: 0 },
  },
};

// On execute's answers: set when the answer is the one an earlier request with the same request_id got.
const REPLAYED_HEADER = {
  'Idempotent-Replayed': {
    description:
      'true when this is the answer of an earlier request with the same request_id: nothing ran again.',
    schema: { type: 'string', enum: ['true'] },
  },
};

// Codes any route may answer whatever it is: a request the HTTP layer refused, a connection over the limit, a Host
// not allowed, no such route, a store or a bug.
const ANY_ROUTE_ERRORS: readonly ErrorCode[] = [
  'DVM_AGENT_BUSY',
  'DVM_HOST_NOT_ALLOWED',
  'DVM_REQUEST_MALFORMED',
  'DVM_REQUEST_TOO_LARGE',
  'DVM_HEADERS_TOO_LARGE',
  'DVM_REQUEST_TIMEOUT',
  'DVM_ROUTE_NOT_FOUND',
  'DVM_STORE_UNAVAILABLE',
  'DVM_INTERNAL',
];

/** Every code the API answers (the routes', the auth hook's, and those of any route), sorted. */
export const API_ERROR_CODES: readonly ErrorCode[] = [
  ...new Set([...AUTH_ERRORS, ...ANY_ROUTE_ERRORS, ...ROUTES.flatMap((route) => route.errors ?? [])]),
].sort();

const ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'reason', 'message', 'details'],
  properties: {
    code: { type: 'string', enum: API_ERROR_CODES },
    reason: { type: 'string' },
    message: { type: 'string' },
    details: { type: 'object' },
    execution_id: {
      type: 'string',
      description: "on an action's own failure (or an execution interrupted): the execution it ended",
    },
  },
};

const STRINGS = { type: 'array', items: { type: 'string' } };

// What execute's refusals carry in `details`, by status: the policy's decision, and a confirmation challenge.
const EXECUTE_ERROR_DETAILS: Record<string, Record<string, unknown>> = {
  '413': {
    type: 'object',
    properties: {
      max_keys: {
        type: 'integer',
        description:
          'set when the body is refused for its objects holding more keys in all than this (10,000)',
      },
      max_items: {
        type: 'integer',
        description:
          'set when the body is refused for its lists holding more items in all than this (100,000)',
      },
    },
  },
  '403': {
    type: 'object',
    properties: {
      policy_ids: { ...STRINGS, description: 'the policies that decided' },
      reasons: { ...STRINGS, description: 'their reasons' },
    },
  },
  '428': {
    type: 'object',
    required: ['challenge', 'policy_ids', 'reasons'],
    properties: {
      challenge: {
        type: 'object',
        required: ['confirmation_token', 'expires_at', 'approval'],
        properties: {
          confirmation_token: {
            type: 'string',
            pattern: '^dvmc_',
            description: 'send it back as confirmation_token with the same request (single use)',
          },
          expires_at: { type: 'string', format: 'date-time' },
          approval: {
            enum: ['self', 'other-principal'],
            description:
              'other-principal: another principal approves it first (POST /v1/confirmations/approve)',
          },
          binding: {
            type: 'string',
            description: 'hash of what it confirms: action, version, params, target, principal',
          },
        },
      },
      policy_ids: STRINGS,
      reasons: STRINGS,
    },
  },
};

// The Error schema with `details` described, for the statuses whose details are known.
function errorSchemaFor(route: RouteSpec, status: number): Record<string, unknown> {
  const details = route.url === '/v1/actions/execute' ? EXECUTE_ERROR_DETAILS[String(status)] : undefined;
  if (!details) return { $ref: '#/components/schemas/Error' };
  return { allOf: [{ $ref: '#/components/schemas/Error' }, { type: 'object', properties: { details } }] };
}

// A route's operationId, for code generators: its method and path in camel case, `:id` as `ById`
// (GET /v1/executions/:id/events → getExecutionsByIdEvents).
function operationIdOf(route: RouteSpec): string {
  const words = route.url
    .split('/')
    .filter((part) => part && part !== 'v1')
    .flatMap((part) => (part.startsWith(':') ? ['by', part.slice(1)] : part.split(/[^A-Za-z0-9]+/)));
  return [route.method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/** The agent API as an OpenAPI 3.1 document, built from the route table. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    const parameters = [
      ...[...route.url.matchAll(/:(\w+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...Object.entries(route.query ?? {}).map(([name, description]) => ({
        name,
        in: 'query',
        required: false,
        description,
        schema: { type: 'string' },
      })),
      ...Object.entries(route.headers ?? {}).map(([name, description]) => ({
        name,
        in: 'header',
        required: false,
        description,
        schema: { type: 'string' },
      })),
    ];
    const body =
      route.url === '/v1/actions/execute' ? EXECUTE_REQUEST_SCHEMA : (route.requestBody ?? undefined);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: operationIdOf(route),
      summary: route.summary,
      // A public route needs no token; one that reads a token if sent lists both (OpenAPI's optional security).
      ...(route.role === 'public'
        ? {
            security: route.withToken ? [{}, { bearer: [] }] : [],
            ...(route.withToken ? { 'x-dvm-with-token': route.withToken } : {}),
          }
        : { 'x-dvm-least-role': route.role }),
      ...(parameters.length ? { parameters } : {}),
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses: {
        ...Object.fromEntries(
          Object.entries(route.responses).map(([status, description]) => {
            const { type, schema } = route.content?.[status] ?? {
              type: 'application/json',
              schema: { type: 'object' },
            };
            const replayable = route.url === '/v1/actions/execute';
            return [
              status,
              {
                description,
                ...(replayable ? { headers: REPLAYED_HEADER } : {}),
                // 204 and 304 have no body.
                ...(status === '204' || status === '304' ? {} : { content: { [type]: { schema } } }),
              },
            ];
          }),
        ),
        ...errorResponses(route),
        default: { $ref: '#/components/responses/Error' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'DevOpsMaestro agent API', version },
    // Relative: the server that serves this document (whatever its address, HTTP or HTTPS).
    servers: [{ url: '/', description: 'the agent that served this document' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from `dvm token create`.' },
      },
      schemas: { Error: ERROR_SCHEMA },
      responses: {
        Error: {
          description: 'An error: {code, reason, message, details}; codes are stable (see the README).',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}
