import { setTimeout as sleep } from 'node:timers/promises';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { ExecuteResponse } from '../execute/types.ts';
import { AGENT_HEADER } from '../server/agent-header.ts';
import {
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  type RetryPolicy,
  retryableAnswer,
  retryableCause,
  retryDelay,
} from './retry-policy.ts';
import { parseEventStream, type ReceivedEvent } from './sse-client.ts';

/** What the client tells before it sends a request again. */
export interface RetryNotice {
  method: string;
  path: string;
  /** Why: the status and code, or the connection failure. */
  reason: string;
  /** This retry's number (1-based) and how many the policy allows. */
  attempt: number;
  retries: number;
  delayMs: number;
}

/** How a client retries: its policy, who hears of each retry, and how it waits (tests pass their own). */
export interface AgentClientOptions {
  retry?: RetryPolicy;
  onRetry?: (notice: RetryNotice) => void;
  sleep?: (ms: number) => Promise<unknown>;
  /** Where the server address came from, as messages name it (default `--server`). */
  serverSource?: '--server' | 'DVM_SERVER';
}

// TLS verification failures a trusted CA would fix.
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** A client of a remote agent API (`dvm serve`): bearer token, JSON bodies, SSE streams. */
export class AgentClient {
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #retry: RetryPolicy;
  readonly #onRetry: (notice: RetryNotice) => void;
  readonly #sleep: (ms: number) => Promise<unknown>;

  constructor(server: string, token: string | undefined, options: AgentClientOptions = {}) {
    if (!URL.canParse(server) || !/^https?:$/.test(new URL(server).protocol)) {
      const source = options.serverSource ?? '--server';
      throw new DvmError('DVM_USAGE', `${source} "${server.slice(0, 200)}" is not an http(s) URL`, {
        fix:
          source === 'DVM_SERVER'
            ? 'Set DVM_SERVER to a URL like http://127.0.0.1:8700 (the address `dvm serve` prints).'
            : 'Pass e.g. --server http://127.0.0.1:8700 (the address `dvm serve` prints).',
      });
    }
    const given = new URL(server);
    if (given.username || given.password) {
      // Never echoed: the user and password are what must not be shown.
      throw new DvmError(
        'DVM_USAGE',
        `--server (or DVM_SERVER) for ${given.host} has a user or password in it`,
        {
          fix: 'Drop the user:password@ part: the agent takes a token, from DVM_TOKEN or DVM_TOKEN_FILE.',
        },
      );
    }
    this.#base = new URL(server);
    this.#token = token;
    this.#retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.#onRetry = options.onRetry ?? (() => {});
    this.#sleep = options.sleep ?? sleep;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}), ...extra };
  }

  async #fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(new URL(path, this.#base), init);
    } catch (error) {
      throw this.#unreachable(error);
    }
  }

  // A failed connection as DVM_CONNECTOR_UNAVAILABLE: fetch says only "fetch failed"; the cause says why (refused,
  // reset, a certificate not trusted). An abort by the caller stays what it is.
  #unreachable(error: unknown): unknown {
    if ((error as Error)?.name === 'AbortError') return error;
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    const code = cause?.code ?? '';
    // https:// to a server that answers plain HTTP: OpenSSL's record-header message says nothing a user can act on.
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER')
      return new DvmError(
        'DVM_CONNECTOR_UNAVAILABLE',
        `cannot reach the agent at ${this.#base.origin}: it does not answer TLS (it may serve plain HTTP)`,
        {
          fix: `Use http://${this.#base.host} in --server / DVM_SERVER for an agent without --tls-cert (on loopback only), or serve HTTPS: dvm serve --tls-cert … --tls-key ….`,
          details: { cause: code },
        },
      );
    return new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `cannot reach the agent at ${this.#base.origin}: ${cause?.message ?? (error as Error).message}`,
      {
        fix: UNTRUSTED_CERTIFICATE.has(code)
          ? "The agent's certificate is not trusted here: point NODE_EXTRA_CA_CERTS at the CA (or the self-signed certificate) that signed it, e.g. NODE_EXTRA_CA_CERTS=ca.pem dvm action run …"
          : code === 'ERR_TLS_CERT_ALTNAME_INVALID'
            ? 'The certificate does not name this host: use a --server host it was issued for (its subjectAltName).'
            : 'Start it with `dvm serve`, or check --server / DVM_SERVER.',
        ...(code ? { details: { cause: code } } : {}),
      },
    );
  }

  /**
   * Sends a request and returns status and JSON body, whatever the status. A request that is safe to repeat (`retry`:
   * every GET by default; an execute, by its request_id) is sent again, after a backoff or the server's Retry-After,
   * when the connection failed or the answer says nothing ran (see retry-policy.ts).
   */
  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    { retry = method === 'GET' }: { retry?: boolean } = {},
  ): Promise<ExecuteResponse> {
    const retries = retry ? this.#retry.retries : 0;
    for (let attempt = 1; ; attempt++) {
      let reason: string | undefined;
      let retryAfterMs: number | undefined;
      let outcome: (ExecuteResponse & { retryAfter: string | null; fromAgent: boolean }) | DvmError;
      try {
        outcome = await this.#send(method, path, body, signal);
        reason = retryableAnswer(outcome.status, outcome.body);
        retryAfterMs = parseRetryAfter(outcome.retryAfter);
      } catch (error) {
        if (!isDvmError(error) || error.code !== 'DVM_CONNECTOR_UNAVAILABLE' || signal?.aborted) throw error;
        outcome = error;
        const cause = typeof error.details.cause === 'string' ? error.details.cause : undefined;
        if (retryableCause(cause)) reason = error.message;
      }
      const delayMs =
        reason !== undefined && attempt <= retries
          ? retryDelay(attempt, this.#retry, retryAfterMs)
          : undefined;
      if (delayMs === undefined) {
        if (outcome instanceof DvmError) throw outcome;
        const { retryAfter: _, fromAgent, ...response } = outcome;
        if (!fromAgent) throw this.#notAgent(response.status);
        return response;
      }
      this.#onRetry({ method, path, reason: reason as string, attempt, retries, delayMs });
      await this.#sleep(delayMs);
    }
  }

  // One attempt: the answer (status, JSON body, what its headers say), or DVM_CONNECTOR_UNAVAILABLE with the cause's
  // code when the connection failed, also while the body was read.
  async #send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<ExecuteResponse & { retryAfter: string | null; fromAgent: boolean }> {
    const response = await this.#fetch(path, {
      method,
      headers: this.#headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.#unreachable(error);
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text };
    }
    return {
      status: response.status,
      body: parsed,
      ...(response.headers.get('idempotent-replayed') === 'true' ? { replayed: true } : {}),
      retryAfter: response.headers.get('retry-after'),
      fromAgent: response.headers.get(AGENT_HEADER) !== null,
    };
  }

  // An answer without the agent's header: a proxy's error page, or another server at this address. Its body (an HTML
  // page, say) is not shown; what it is, is said.
  #notAgent(status: number): DvmError {
    const origin = this.#base.origin;
    if (status === 502 || status === 503 || status === 504)
      return new DvmError(
        'DVM_CONNECTOR_UNAVAILABLE',
        `cannot reach the agent at ${origin}: a proxy in front of it answered HTTP ${status}`,
        {
          fix: 'Check that `dvm serve` runs behind that proxy, and the proxy’s upstream address.',
          details: { status },
        },
      );
    return new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `${origin} answered HTTP ${status}, but not as a dvm agent (its answers lack the ${AGENT_HEADER} header)`,
      {
        fix: 'Point --server / DVM_SERVER at the address `dvm serve` prints ("agent API listening on …").',
        details: { status },
      },
    );
  }

  /**
   * Streams the events of an execution from `afterId` until the server ends the stream: when the execution ends,
   * or, with `follow: false`, once the events so far are sent. `onOpen` is called once the agent accepted the stream.
   */
  async *events(
    executionId: string,
    afterId = 0,
    signal?: AbortSignal,
    { follow = true, onOpen }: { follow?: boolean; onOpen?: () => void } = {},
  ): AsyncGenerator<ReceivedEvent> {
    const query = follow ? '' : '?follow=false';
    const response = await this.#fetch(`/v1/executions/${encodeURIComponent(executionId)}/events${query}`, {
      headers: this.#headers(afterId > 0 ? { 'last-event-id': String(afterId) } : {}),
      signal,
    });
    if (response.headers.get(AGENT_HEADER) === null) {
      await response.body?.cancel();
      throw this.#notAgent(response.status);
    }
    // 204: the execution ended and every event was received already; nothing more will come.
    if (response.status === 204) return;
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw errorFromBody(response.status, text);
    }
    onOpen?.();
    yield* parseEventStream(response.body as AsyncIterable<Uint8Array>);
  }
}

/** A DvmError from an API error body (its code when it is one of ours). */
export function errorFromBody(status: number, text: string | Record<string, unknown>): DvmError {
  let body: Record<string, unknown> = {};
  try {
    body = typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    body = { message: String(text) };
  }
  const code = typeof body.code === 'string' && body.code.startsWith('DVM_') ? body.code : 'DVM_INTERNAL';
  const details = (body.details ?? {}) as Record<string, unknown>;
  // The server lists every problem (each schema violation) in details.causes: they are printed like local ones.
  const causes = Array.isArray(details.causes)
    ? (details.causes as Record<string, unknown>[])
        .filter((c) => c && typeof c === 'object' && typeof c.message === 'string')
        .map((c) => ({
          code: (typeof c.code === 'string' && c.code.startsWith('DVM_') ? c.code : code) as never,
          message: String(c.message),
          ...(typeof c.path === 'string' ? { path: c.path } : {}),
          ...(typeof c.fix === 'string' ? { fix: c.fix } : {}),
        }))
    : [];
  // The server's advice is for HTTP clients (send an Authorization header); a dvm user sets a variable.
  const fix =
    code === 'DVM_UNAUTHENTICATED'
      ? "Set DVM_TOKEN (or DVM_TOKEN_FILE) to a valid token: an admin makes one with `dvm token create` on the agent's host (a revoked or expired token stays refused)."
      : typeof details.fix === 'string'
        ? details.fix
        : undefined;
  return new DvmError(code as never, String(body.message ?? `HTTP ${status}`), {
    fix,
    causes,
    details: { ...details, status },
  });
}
