import { ERROR_CODES } from '../../errors/codes.ts';
import { EXECUTE_REQUEST_SCHEMA } from '../execute/validate-request.ts';
import { ROUTES } from './routes.ts';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'reason', 'message', 'details'],
  properties: {
    code: { type: 'string', enum: Object.keys(ERROR_CODES) },
    reason: { type: 'string' },
    message: { type: 'string' },
    details: { type: 'object' },
  },
};

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
    ];
    const body =
      route.url === '/v1/actions/execute' ? EXECUTE_REQUEST_SCHEMA : (route.requestBody ?? undefined);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      ...(route.role === 'public' ? { security: [] } : { 'x-dvm-least-role': route.role }),
      ...(parameters.length ? { parameters } : {}),
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses: {
        ...Object.fromEntries(
          Object.entries(route.responses).map(([status, description]) => [status, { description }]),
        ),
        ...(route.role === 'public'
          ? {}
          : {
              '401': { $ref: '#/components/responses/Error' },
              '403': { $ref: '#/components/responses/Error' },
            }),
        default: { $ref: '#/components/responses/Error' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'DevOpsMaestro agent API', version },
    servers: [{ url: 'http://127.0.0.1:8700' }],
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
