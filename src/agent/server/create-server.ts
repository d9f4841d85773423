import type { AddressInfo, Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DvmError, type ErrorCause, isDvmError } from '../../errors/dvm-error.ts';
import { systemError } from '../../errors/system-errors.ts';
import { auditFiltersOf } from '../audit/audit-query.ts';
import { approveConfirmation, confirmationRequired } from '../auth/approvals.ts';
import { ANONYMOUS, type Principal } from '../auth/principal.ts';
import { catalogEntry } from '../catalog.ts';
import { cancelExecutionBy } from '../execute/cancellation.ts';
import { executionFiltersOf } from '../execute/execution-query.ts';
import { indexAfter } from '../execute/executions.ts';
import { visibleExecution } from '../execute/visibility.ts';
import { anonymousHealth } from '../health.ts';
import { unknownOrRepeatedParams } from '../query-params.ts';
import { AGENT_HEADER, AGENT_HEADER_VALUE } from './agent-header.ts';
import type { AgentServices, HealthReport } from './agent-services.ts';
import { answerClientError, answerConnect } from './client-errors.ts';
import { ConnectionGate, DEFAULT_CONNECTION_LIMITS } from './connection-limits.ts';
import { type Denial, DenialAudit, type DenialAuditOptions } from './denial-audit.ts';
import { hostRefusal } from './host-check.ts';
import { parseJsonBody } from './json-body.ts';
import type { AgentMetrics } from './metrics.ts';
import { createMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { RateLimiter, type RequestRate } from './rate-limit.ts';
import { retryAfterSeconds } from './retry-after.ts';
import { ROUTES, type RouteSpec, roleAtLeast } from './routes.ts';
import { closedEvent, followOf, frameEvent, openEventStream, resumeAfter, SSE_HEARTBEAT_MS } from './sse.ts';
import { StreamSlots } from './stream-slots.ts';
import { secureContextOf } from './tls-reload.ts';

/** Default address of `dvm serve`'s API. */
export const DEFAULT_LISTEN = '127.0.0.1:8700';

/** How often an open event stream checks that its token is still valid (revoked, expired). */
const SSE_TOKEN_CHECK_MS = 1000;

/** Largest request body the API reads (1 MiB). */
export const BODY_LIMIT = 1024 * 1024;

/** How long a client may take to send a whole request (headers and body); past it, 408 and the connection closes. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** How long the answers of a closing server's last requests get to reach their clients before every connection is cut. */
export const CLOSE_GRACE_MS = 1000;

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The spec of the matched route; requests without one (404s) need a token like any other. */
    spec?: RouteSpec;
  }
}

// Sets Retry-After on a refusal a client may send again (see retry-after.ts).
function retryAfter(reply: FastifyReply, code: unknown, details: unknown): void {
  const seconds = retryAfterSeconds(code, details);
  if (seconds !== undefined) reply.header('retry-after', String(seconds));
}

function send(reply: FastifyReply, error: DvmError): FastifyReply {
  retryAfter(reply, error.code, error.details);
  // Also on answers sent before any hook ran (a URL the router refuses).
  reply.header(AGENT_HEADER, AGENT_HEADER_VALUE);
  return reply.code(error.httpStatus).type('application/json').send(error.toJSON());
}

// The router's refusals of a URL, before any route or hook runs.
function fromFrameworkError(error: { code?: string; message: string }): DvmError {
  return new DvmError(
    'DVM_REQUEST_MALFORMED',
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path segment is longer than 100 characters'
      : 'the URL is not valid (bad percent-encoding?)',
    {
      fix: 'Send a path as GET /v1/openapi.json lists it, with ids as the API gave them.',
      details: { router: error.code },
    },
  );
}

// Fastify's own errors (bad JSON, body too large, wrong content type) in our taxonomy.
function fromFastifyError(error: { statusCode?: number; code?: string; message: string }): DvmError {
  if (error.statusCode === 413) {
    return new DvmError('DVM_REQUEST_TOO_LARGE', `the request body is larger than ${BODY_LIMIT} bytes`, {
      fix: 'Send a smaller body.',
    });
  }
  if (error.statusCode === 415) {
    return new DvmError('DVM_REQUEST_MALFORMED', 'the request body must be application/json', {
      fix: 'Send Content-Type: application/json.',
    });
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new DvmError('DVM_REQUEST_MALFORMED', `the request could not be read: ${error.message}`, {
      fix: 'Send a JSON object body with Content-Type: application/json.',
      details: { fastify: error.code },
    });
  }
  return new DvmError('DVM_INTERNAL', `unexpected server error: ${error.message}`);
}

/**
 * Builds the agent API (not yet listening): every request needs a bearer token except on a route whose spec is
 * public (health); the spec comes from the matched route itself, so an unmatched request is authenticated too.
 */
export function createAgentServer(
  services: AgentServices,
  options: {
    metrics?: AgentMetrics;
    version?: string;
    denialAudit?: DenialAuditOptions;
    /** Serve HTTPS with this certificate chain and key (PEM); plain HTTP without. */
    tls?: { cert: Buffer; key: Buffer };
  } = {},
): FastifyInstance {
  // agent.limits.connections, .connections_per_address, .streams and .streams_per_principal in force (a reloaded
  // config.yaml counts from the next connection, stream).
  const limits = () => services.connectionLimits ?? DEFAULT_CONNECTION_LIMITS;
  const gate = new ConnectionGate(
    limits,
    (scope) => metrics.connectionsRejected.inc({ limit: scope }),
    () => metrics.connectionsEvicted.inc(),
  );
  // The running executions and open connections are counted when /metrics is scraped: nothing on the request path.
  const metrics =
    options.metrics ??
    createMetrics(
      () => services.executions.running().length,
      () => gate.open,
      services.policy,
    );
  const onCommit = (seconds: number, writes: number) => {
    metrics.storeCommitDuration.observe(seconds);
    metrics.storeWrites.inc(writes);
  };
  services.writer?.commitListeners.add(onCommit);
  const stopCountingAlerts = services.alerts?.onOutcome((o) =>
    metrics.auditAlerts.inc({ rule: o.rule, outcome: o.outcome }),
  );
  const denials = new DenialAudit(services.audit, options.denialAudit);
  // The limiter of the rate in force; a rate changed by a config.yaml reload starts with full buckets.
  let limiting: { rate: RequestRate; limiter: RateLimiter } | undefined;
  const limiterOf = (rate: RequestRate | undefined) => {
    if (!rate) return undefined;
    // By value: a reload that changes something else keeps every principal's bucket.
    if (limiting?.rate.perSecond !== rate.perSecond || limiting.rate.burst !== rate.burst)
      limiting = { rate, limiter: new RateLimiter(rate) };
    return limiting.limiter;
  };
  // No automatic HEAD routes: the API answers exactly the methods of ROUTES.
  const app = Fastify({
    ...(options.tls ? { https: secureContextOf(options.tls) } : {}),
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Fastify turns Node's request timeout off: a client that never finishes its request would hold a connection
    // (and a closing server) for ever.
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Requests that reach a closing server (on an open keep-alive connection) are answered by the hook below in
    // our error shape; Fastify's own 503 body is not.
    return503OnClosing: false,
    exposeHeadRoutes: false,
    // A request the HTTP parser refuses, and a URL the router cannot take (bad percent-encoding, a path segment
    // over 100 characters), are answered in our shape too.
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, _request, reply) => {
      send(reply, fromFrameworkError(error));
    },
    // An HTTPS instance has the same routes and hooks; only its server type differs.
  }) as unknown as FastifyInstance;

  // Node answers an HTTP/1.1 request without Host (which RFC 9112 makes a 400) with an empty body of its own: the
  // first hook below answers it in the error shape instead; a CONNECT (a tunnel request) gets its answer too.
  (app.server as { requireHostHeader?: boolean }).requireHostHeader = false;
  app.server.on('connect', (_request: unknown, socket: Socket) => answerConnect(socket));

  // Every route carries its spec, so the hook below never meets a matched route it cannot decide for.
  app.addHook('onRoute', (options) => {
    if (!options.config?.spec) throw new Error(`route ${options.method} ${options.url} has no RouteSpec`);
  });

  // Set once close() begins: from then on every request is refused (Fastify adds Connection: close). Requests in
  // flight get DRAIN_MS to finish; then their actions, and follows at once, are stopped (they end DVM_CANCELLED,
  // recorded and audited, and their requests are answered), and the event streams still open end: close() does
  // not wait out an action's timeout or a follow's hour. Pipeline tasks' actions are left to their runs.
  let stopping = false;
  // The open event streams, by principal: at most agent.limits.streams, and .streams_per_principal for each.
  const streams = new StreamSlots(limits);
  // Every open connection, so a closing server can cut those left: server.close() waits for each connection, and
  // one whose request never finishes arriving would hold it for ever.
  const sockets = new Set<Socket>();
  let cutting: NodeJS.Timeout | undefined;
  // (Under TLS too: 'connection' gives the TCP socket under each TLS one.)
  app.server.on('connection', (socket: Socket) => {
    // Past agent.limits.connections, the connection's request is answered 503 DVM_AGENT_BUSY (the hook below).
    gate.admit(socket);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Under TLS the requests are kept on the TLS socket over each TCP one: the gate tells idle from busy by it.
  app.server.on('secureConnection', (socket: Socket) => gate.secured(socket));
  // A connection in use is the last to give way to a new one at the limit.
  app.server.on('request', (request: { socket: Socket }) => gate.used(request.socket));
  app.addHook('preClose', async () => {
    stopping = true;
    await services.executor.stopRequests();
    streams.endAll();
    // What is left once the last answers went out — a request still arriving byte by byte, a connection that never
    // sent one — would keep close() waiting: it is cut.
    cutting = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, CLOSE_GRACE_MS);
  });

  // Audits the refusal of an authenticated principal (one denial entry; counted past the denial audit's limit),
  // then answers it.
  const refuse = async (
    request: FastifyRequest,
    reply: FastifyReply,
    kind: string,
    error: DvmError,
    reason: string,
  ) => {
    const { name, via, id } = request.principal as Principal;
    await denials.record({
      kind,
      actor: name,
      via,
      principal: id,
      reasons: [reason],
      error: { code: error.code, message: error.message },
      source: request.ip,
      route: routeOf(request),
    });
    return send(reply, error);
  };

  // The address the server listens on, once it does (the Host check reads it).
  let listening: string | undefined;
  const listenAddress = () => (listening ??= (app.server.address() as AddressInfo | null)?.address);

  app.addHook('onRequest', async (request, reply) => {
    (request as FastifyRequest & { startedAt?: number }).startedAt = performance.now();
    reply.header(AGENT_HEADER, AGENT_HEADER_VALUE);
    const busy = gate.refusal(request.raw.socket);
    if (busy) {
      reply.header('connection', 'close');
      return send(reply, busy);
    }
    if (request.raw.httpVersion === '1.1' && !request.headers.host) {
      reply.header('connection', 'close');
      return send(
        reply,
        new DvmError('DVM_REQUEST_MALFORMED', 'the HTTP/1.1 request has no Host header', {
          fix: 'Send a Host header (an HTTP client library does), as HTTP/1.1 requires.',
        }),
      );
    }
    // DNS rebinding: a web page whose name now points at this machine must not reach a loopback agent (health too).
    const misdirected = hostRefusal(
      request.headers.host,
      { listen: listenAddress(), local: request.raw.socket.localAddress },
      services.allowedHosts,
    );
    if (misdirected) {
      await denials.record({
        kind: 'host',
        actor: ANONYMOUS,
        reasons: [`${routeOf(request)}: ${misdirected.message}`],
        error: { code: misdirected.code, message: misdirected.message },
        source: request.ip,
        route: routeOf(request),
      });
      return send(reply, misdirected);
    }
    const spec = request.routeOptions.config?.spec;
    if (stopping) {
      reply.header('connection', 'close');
      // Health keeps its own shape, so a load balancer reading it sees the agent unavailable.
      if (spec?.url === '/v1/health') {
        return reply.code(503).send({
          status: 'unavailable',
          connectors: { store: { status: 'unavailable', detail: 'the agent is stopping' } },
        } satisfies HealthReport);
      }
      return send(
        reply,
        new DvmError('DVM_AGENT_STOPPING', 'the agent is stopping and takes no new requests', {
          fix: 'Send the request again once the agent is back; a repeated request_id is answered, not run twice.',
        }),
      );
    }
    // Deny by default: only a matched route whose own spec says public skips authentication.
    if (spec?.role === 'public') return;
    const where = () => routeOf(request);
    try {
      request.principal = services.tokens.authenticate(
        request.headers.authorization,
        repeatsAuthorization(request.raw.rawHeaders),
      );
    } catch (error) {
      if (!isDvmError(error)) throw error;
      await denials.record(unauthenticated(request, error));
      reply.header('www-authenticate', 'Bearer realm="dvm"');
      return send(reply, error);
    }
    // An unmatched request (404) needs a valid token but no particular role.
    if (spec && !roleAtLeast(request.principal.role, spec.role)) {
      const error = new DvmError('DVM_FORBIDDEN', `${spec.method} ${spec.url} needs the ${spec.role} role`, {
        fix: `Use a token with role ${spec.role} or higher (dvm token create --role ${spec.role}).`,
        details: { role: request.principal.role, needs: spec.role },
      });
      return refuse(
        request,
        reply,
        'role',
        error,
        `${where()} needs the ${spec.role} role, not ${request.principal.role}`,
      );
    }
    // Each principal's request rate (agent.limits.requests_per_second), once it is known who sends.
    const rate = services.requestRate;
    const waitMs = limiterOf(rate)?.take(request.principal.id) ?? 0;
    if (waitMs > 0) {
      const { perSecond, burst } = rate as RequestRate;
      const error = new DvmError(
        'DVM_RATE_LIMITED',
        `${request.principal.name} sends more than ${perSecond} requests a second (burst ${burst})`,
        {
          fix: 'Send it again after Retry-After (dvm does so itself), slow the client down, or raise agent.limits.requests_per_second in config.yaml.',
          details: { requests_per_second: perSecond, burst, retry_after_ms: waitMs },
        },
      );
      return refuse(
        request,
        reply,
        'rate',
        error,
        `${where()}: over ${perSecond} requests a second (burst ${burst})`,
      );
    }
  });

  // Counted denials are written before the agent (and its audit) closes.
  app.addHook('onClose', async () => {
    // Whatever connection is still open once the server closed ends now too (and the cut above is not needed).
    clearTimeout(cutting);
    for (const socket of sockets) socket.destroy();
    services.writer?.commitListeners.delete(onCommit);
    stopCountingAlerts?.();
    await denials.flush();
  });

  app.addHook('onResponse', async (request, reply) => {
    // While closing, a connection whose last answer went out and that holds no next request is closed, so close()
    // does not wait out its keep-alive (one with a next request gets that answered first: 503, Connection: close).
    if (stopping) setImmediate(() => app.server.closeIdleConnections?.());
    const route = request.routeOptions.url ?? 'unmatched';
    const started = (request as FastifyRequest & { startedAt?: number }).startedAt ?? performance.now();
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, (performance.now() - started) / 1000);
  });

  // JSON only: Fastify's own text/plain parser would hand a JSON body sent as text/plain over as a string, refused
  // as "not a JSON object" instead of by its media type.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler((error, _request, reply) => {
    send(
      reply,
      isDvmError(error)
        ? error
        : (systemError(error) ?? fromFastifyError(error as { statusCode?: number; message: string })),
    );
  });
  const routeNotFound = (request: FastifyRequest) =>
    new DvmError('DVM_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, {
      fix: 'See GET /v1/openapi.json for the routes.',
    });
  app.setNotFoundHandler((request, reply) => {
    send(reply, routeNotFound(request));
  });

  const principalOf = (request: FastifyRequest): Principal => request.principal as Principal;
  // A route's handler, behind the query check its spec asks for (by default: no parameter it does not document,
  // none given twice, so that a misspelt `last_event_id` is refused rather than replaying a stream from the start).
  const route = (spec: RouteSpec, handler: (request: FastifyRequest, reply: FastifyReply) => unknown) => {
    const known = Object.keys(spec.query ?? {});
    const checked =
      spec.queryCheck !== undefined
        ? handler
        : (request: FastifyRequest, reply: FastifyReply) => {
            const causes = unknownOrRepeatedParams(request.query as Record<string, unknown>, known);
            if (causes.length > 0) throw queryInvalid(spec, causes);
            return handler(request, reply);
          };
    // An empty path segment (`/v1/executions/`, `/v1/executions//events`) names no route, as any other bad path.
    const whole = (request: FastifyRequest, reply: FastifyReply) => {
      if (Object.values((request.params ?? {}) as Record<string, string>).includes(''))
        throw routeNotFound(request);
      return checked(request, reply);
    };
    app.route({ method: spec.method, url: spec.url, config: { spec }, handler: whole as never });
  };
  const byUrl = (method: string, url: string) =>
    ROUTES.find((r) => r.method === method && r.url === url) as RouteSpec;

  // Health answers everyone (load balancers send no token) with the same status; only a caller whose token
  // authenticates (any role) reads each connector's detail, the others a generic one (anonymousHealth). A token that
  // does not authenticate is not refused: it gets the anonymous view, and is audited denied as on any other route
  // (counted past the denial audit's limit), so that health cannot be used to try tokens unseen.
  route(byUrl('GET', '/v1/health'), async (request, reply) => {
    const report = await services.health();
    const authenticated = await (async () => {
      if (!request.headers.authorization) return false;
      try {
        services.tokens.authenticate(
          request.headers.authorization,
          repeatsAuthorization(request.raw.rawHeaders),
        );
        return true;
      } catch (error) {
        // The token store cannot be read: health still answers (its report says why).
        if (!isDvmError(error) || error.code !== 'DVM_UNAUTHENTICATED') return false;
        await denials
          .record(unauthenticated(request, error, '; answered the anonymous view'))
          // A store that cannot be written is what health reports: it still answers.
          .catch(() => undefined);
        return false;
      }
    })();
    // The body depends on the token, and a probe wants it fresh: nothing in front may store it.
    return reply
      .header('vary', 'authorization')
      .header('cache-control', 'no-store')
      .code(report.status === 'unavailable' ? 503 : 200)
      .send(authenticated ? report : anonymousHealth(report));
  });

  route(byUrl('GET', '/v1/actions'), async () => ({
    actions: services.executor.registry.list().map(catalogEntry),
  }));

  route(byUrl('POST', '/v1/actions/execute'), async (request, reply) => {
    const controller = new AbortController();
    // A client that hangs up before its answer stops waiting on a repeated request id (the action itself runs on).
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished)
        controller.abort(new DvmError('DVM_CANCELLED', 'the client closed the connection'));
    });
    const response = await services.executor.execute(request.body, principalOf(request), {
      signal: controller.signal,
    });
    metrics.executions.inc({
      action:
        typeof (request.body as { action?: unknown })?.action === 'string' &&
        services.executor.registry.has((request.body as { action: string }).action)
          ? (request.body as { action: string }).action
          : 'unknown',
      outcome: String(response.status),
    });
    // As Stripe's API does: a client can tell that this request_id's earlier answer came back and nothing ran again.
    if (response.replayed) reply.header('idempotent-replayed', 'true');
    if (response.status >= 400) retryAfter(reply, response.body.code, response.body.details);
    return reply.code(response.status).send(response.body);
  });

  // The confirmation a body names: {"confirmation_token": "dvmc_…"} (the requester's) or {"confirmation_id": …} (as
  // GET /v1/confirmations lists it); undefined when it names none, DVM_REQUEST_INVALID when it names both. A body
  // that is no JSON object is malformed, as for execute.
  const confirmationRefOf = (request: FastifyRequest): unknown => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new DvmError('DVM_REQUEST_MALFORMED', 'the request body must be a JSON object', {
        fix: 'Send {"confirmation_token": "dvmc_…"} or {"confirmation_id": "…"} with Content-Type: application/json.',
      });
    }
    const { confirmation_token: token, confirmation_id: id } = body as Record<string, unknown>;
    if (token !== undefined && id !== undefined)
      throw new DvmError('DVM_REQUEST_INVALID', 'give confirmation_token or confirmation_id, not both', {
        fix: 'Send one of them.',
        path: 'confirmation_id',
      });
    for (const [path, value] of [
      ['confirmation_token', token],
      ['confirmation_id', id],
    ] as const) {
      if (value !== undefined && typeof value !== 'string')
        throw new DvmError('DVM_REQUEST_INVALID', `${path} must be a string`, {
          fix:
            path === 'confirmation_token'
              ? 'Send the dvmc_… token of the 428 challenge as a JSON string.'
              : 'Send the id from GET /v1/confirmations (or 8+ of its first hex digits) as a JSON string.',
          path,
        });
    }
    return token ?? id;
  };

  route(byUrl('GET', '/v1/confirmations'), async () => ({
    items: services.confirmations.awaitingApproval(),
  }));

  route(byUrl('POST', '/v1/confirmations/lookup'), async (request) => {
    const ref = confirmationRefOf(request);
    if (typeof ref !== 'string') throw confirmationRequired();
    return services.confirmations.pending(ref);
  });

  route(byUrl('POST', '/v1/confirmations/approve'), async (request) =>
    approveConfirmation(services, confirmationRefOf(request), principalOf(request)),
  );

  // Someone else's execution looks exactly like a missing one.
  const executionOf = (request: FastifyRequest) =>
    visibleExecution(services.executions, (request.params as { id: string }).id, principalOf(request));

  // Everyone lists their own executions; only admins list anyone's. Naming another principal is refused (and
  // audited like a role denial), as Kubernetes refuses a list in a namespace you may not read, rather than
  // answering with your own as if the filter had matched.
  route(byUrl('GET', '/v1/executions'), async (request) => {
    const principal = principalOf(request);
    const filters = executionFiltersOf(request.query as Record<string, unknown>, new Date());
    if (principal.role !== 'admin') {
      if (filters.principal !== undefined && filters.principal !== principal.id) {
        const error = new DvmError('DVM_FORBIDDEN', "only admins list other principals' executions", {
          fix: `Leave out principal (you see your own, ${principal.id}), or use an admin token.`,
          path: 'principal',
          details: { role: principal.role, needs: 'admin' },
        });
        await denials.record({
          kind: 'role',
          actor: principal.name,
          via: principal.via,
          principal: principal.id,
          reasons: [
            `GET /v1/executions of principal ${filters.principal.slice(0, 100)} needs the admin role`,
          ],
          error: { code: error.code, message: error.message },
          source: request.ip,
          route: routeOf(request),
        });
        throw error;
      }
      filters.principal = principal.id;
    }
    return services.executions.list(filters);
  });

  route(byUrl('GET', '/v1/executions/:id'), async (request) => executionOf(request));

  route(byUrl('POST', '/v1/executions/:id/cancel'), async (request) =>
    cancelExecutionBy(services, (request.params as { id: string }).id, principalOf(request)),
  );

  route(byUrl('GET', '/v1/executions/:id/events'), async (request, reply) => {
    const record = executionOf(request);
    const after = resumeAfter(request.headers['last-event-id'], request.query);
    const follow = followOf(request.query);
    const log = services.executions.eventLog(record.id);
    let next = indexAfter(log.events, after);
    // An ended execution whose every event the client has: 204 tells an EventSource to stop reconnecting (the
    // HTML standard's way), where an empty 200 would have it reconnect every second for ever.
    if (log.ended() && next >= log.events.length) return reply.code(204).send();
    // At most agent.limits.streams open across the server (each holds a connection, timers and a watcher), and
    // .streams_per_principal of them for one principal, so one token cannot lock the others out. The slot is taken
    // here and given back when the stream finishes (it ended, its client went away, the agent stops).
    const endStream = () => stop();
    const refusal = streams.take(principalOf(request), record.id, endStream);
    if (refusal) {
      metrics.sseRejected.inc({ limit: refusal.scope });
      return refuse(request, reply, 'streams', refusal.error, `${routeOf(request)}: ${refusal.reason}`);
    }
    reply.hijack();
    const res = reply.raw;
    openEventStream(res);
    metrics.sseClients.inc();
    let closed = false;
    // The stream lasts as long as its token: once it is revoked or expires, the stream ends (before the next
    // event, and within a second when none comes); a reconnect is then 401.
    const authorization = request.headers.authorization;
    let tokenError: unknown;
    const tokenValid = () => {
      try {
        services.tokens.authenticate(authorization);
        return true;
      } catch (error) {
        tokenError = error;
        return false;
      }
    };
    const tokenEnded = () =>
      isDvmError(tokenError)
        ? tokenError
        : new DvmError('DVM_UNAUTHENTICATED', 'the token of this stream is no longer valid', {
            fix: 'Reconnect with a valid token.',
          });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    const recheck = setInterval(() => {
      if (!tokenValid()) finish(tokenEnded());
    }, SSE_TOKEN_CHECK_MS);
    let unwatch = () => {};
    // Ends the stream; one cut short (a token that ended, the agent stopping) before the client has the execution's
    // end says why in a last `closed` event, without an id, so a client that reconnects resumes after the last event
    // it really got.
    const finish = (why?: DvmError) => {
      if (closed) return;
      closed = true;
      if (why && !(log.ended() && next >= log.events.length)) res.write(closedEvent(why));
      streams.release(endStream);
      clearInterval(heartbeat);
      clearInterval(recheck);
      metrics.sseClients.dec();
      unwatch();
      res.end();
    };
    // The agent closing ends the stream; a reader that does not take the rest within a second is cut off.
    const stop = () => {
      finish(
        new DvmError('DVM_AGENT_STOPPING', 'the agent is stopping: this stream ends here', {
          fix: `Reconnect with Last-Event-ID once the agent is back, or check GET /v1/executions/${record.id}.`,
        }),
      );
      setTimeout(() => res.destroy(), 1000).unref();
    };
    // Sends what the client has not got yet, as fast as it reads: when its socket is full, the rest waits for
    // 'drain' in the execution's own event list (shared by every stream), not copied into this stream's buffer.
    // Without follow, the events so far are all there is.
    const until = follow ? Number.POSITIVE_INFINITY : log.events.length;
    let draining = false;
    const pump = () => {
      if (closed || draining) return;
      const end = Math.min(log.events.length, until);
      if (next < end && !tokenValid()) return finish(tokenEnded());
      while (next < end) {
        if (!res.write(frameEvent(log.events[next++]))) {
          draining = true;
          res.once('drain', () => {
            draining = false;
            pump();
          });
          return;
        }
      }
      if (next >= until || log.ended()) finish();
    };
    res.once('close', finish);
    unwatch = log.watch(pump);
    pump();
  });

  route(byUrl('GET', '/v1/audit'), async (request) =>
    services.audit.query(auditFiltersOf(request.query as Record<string, unknown>)),
  );

  route(byUrl('GET', '/metrics'), async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  const document = openApiDocument(options.version ?? '0.0.0');
  route(byUrl('GET', '/v1/openapi.json'), async () => document);

  return app;
}

// True when the raw headers hold Authorization more than once (Node's parsed headers keep only the first).
function repeatsAuthorization(raw: string[]): boolean {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization' && ++seen > 1) return true;
  }
  return false;
}

// The denial of a request whose token does not authenticate (its reason, never the token); `answered` says what it
// got instead of a 401, if anything.
function unauthenticated(request: FastifyRequest, error: DvmError, answered = ''): Denial {
  const reason = String(error.details.reason);
  const route = routeOf(request);
  return {
    kind: reason,
    actor: ANONYMOUS,
    reasons: [`${route}: not authenticated (${reason})${answered}`],
    error: { code: error.code, message: error.message },
    source: request.ip,
    route,
  };
}

// The refusal of a query string with parameters a route does not take, or gives twice (every one listed).
function queryInvalid(spec: RouteSpec, causes: ErrorCause[]): DvmError {
  const known = Object.keys(spec.query ?? {});
  const route = `${spec.method} ${spec.url.replace(/:(\w+)/g, '{$1}')}`;
  return new DvmError(
    'DVM_QUERY_INVALID',
    known.length === 0
      ? `${route} takes no parameters`
      : `${route}: ${causes.length === 1 ? causes[0].message : `${causes.length} problems in the query`}`,
    {
      fix:
        known.length === 0
          ? 'Leave out the query string.'
          : `Give only ${known.join(', ')}, each at most once.`,
      ...(causes.length === 1 ? { path: causes[0].path } : {}),
      causes,
    },
  );
}

// What a request asked for, as audited and told: its method and matched route (or path, shortened, when none matched).
function routeOf(request: FastifyRequest): string {
  const url = request.routeOptions.config?.spec?.url ?? request.url.split('?')[0].slice(0, 200);
  return `${request.method} ${url}`;
}
