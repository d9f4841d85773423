import type { Socket } from 'node:net';
import { DvmError } from '../../errors/dvm-error.ts';

/** How many connections, and Server-Sent Events streams, the agent API holds open at once. */
export interface ConnectionLimits {
  /** TCP (or TLS) connections: config.yaml `agent.limits.connections`. */
  connections: number;
  /** Event streams (`GET /v1/executions/{id}/events`) across the server: `agent.limits.streams`. */
  streams: number;
  /** Event streams one principal holds at once (at most `streams`): `agent.limits.streams_per_principal`. */
  streamsPerPrincipal: number;
}

/**
 * The limits when config.yaml sets none: far above a team's use (the bench's 1,000 streams fit), below exhausting the
 * process; one principal holds at most half of the streams (the bench's 1,000 clients of one token still fit), so one
 * token cannot lock the others out.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  connections: 4096,
  streams: 2048,
  streamsPerPrincipal: 1024,
};

/** How long a connection over the limit gets to send the request its 503 answers before it is cut unanswered. */
export const BUSY_GRACE_MS = 2000;

/** How many refused connections may wait for that request at once: past them a refused one is cut at once. */
export const MAX_REFUSED_WAITING = 64;

// A socket as Node's HTTP server keeps it: `_httpMessage` is the response in progress, null between requests.
type HttpSocket = Socket & { _httpMessage?: unknown; _parent?: Socket };

/**
 * Counts a server's open connections. A new one at the limit (read anew for every connection, so a reloaded
 * config.yaml counts from the next one) takes the place of the least recently used idle one — kept alive between
 * requests, or not done sending its first request's headers — as nginx reuses its idle keep-alive connections, so idle or slow
 * connections cannot lock others out; when every one is busy (a request or an event stream in progress), the new
 * one is marked refused: its request is answered 503 DVM_AGENT_BUSY and the connection closed, where Node's
 * `server.maxConnections` would drop it unanswered. At most MAX_REFUSED_WAITING refused connections wait, each for
 * BUSY_GRACE_MS; past them a refused connection is cut at once.
 */
export class ConnectionGate {
  readonly #limit: () => number;
  readonly #onRefused: () => void;
  readonly #onEvicted: () => void;
  // Admitted connections (their TCP sockets), least recently used first.
  readonly #admitted = new Set<Socket>();
  // The TLS socket over an admitted TCP one: the one the HTTP server keeps its requests on.
  readonly #tlsOver = new WeakMap<Socket, HttpSocket>();
  // Refused connections waiting for their request, with the limit each met.
  readonly #refused = new Map<Socket, number>();

  constructor(limit: () => number, onRefused: () => void = () => {}, onEvicted: () => void = () => {}) {
    this.#limit = limit;
    this.#onRefused = onRefused;
    this.#onEvicted = onEvicted;
  }

  /** The connections held now (those within the limit). */
  get open(): number {
    return this.#admitted.size;
  }

  /** Takes a new TCP connection (under TLS too: the socket beneath): counts it, or marks it refused. */
  admit(socket: Socket): void {
    const limit = this.#limit();
    if (this.#admitted.size >= limit) this.#evictIdle(this.#admitted.size - limit + 1);
    if (this.#admitted.size < limit) {
      this.#admitted.add(socket);
      socket.once('close', () => this.#admitted.delete(socket));
      return;
    }
    this.#onRefused();
    if (this.#refused.size >= MAX_REFUSED_WAITING) {
      socket.destroy();
      return;
    }
    this.#refused.set(socket, limit);
    const cut = setTimeout(() => socket.destroy(), BUSY_GRACE_MS).unref();
    socket.once('close', () => {
      clearTimeout(cut);
      this.#refused.delete(socket);
    });
  }

  /**
   * Notes a request on a connection (TCP, or the TLS socket over it): it becomes the most recently used, the last to
   * give way to a new connection.
   */
  used(socket: Socket): void {
    const tcp = (socket as HttpSocket)._parent ?? socket;
    if (this.#admitted.delete(tcp)) this.#admitted.add(tcp);
  }

  /** Notes the TLS socket over a TCP connection once its handshake is done (the server's 'secureConnection'). */
  secured(tls: Socket): void {
    const tcp = (tls as HttpSocket)._parent;
    if (tcp) this.#tlsOver.set(tcp, tls as HttpSocket);
  }

  /** The DVM_AGENT_BUSY refusal of a request that came on a refused connection (TCP or the TLS one over it), if so. */
  refusal(socket: Socket): DvmError | undefined {
    if (this.#refused.size === 0) return undefined;
    const limit = this.#refused.get(socket) ?? this.#refused.get((socket as HttpSocket)._parent as Socket);
    return limit === undefined ? undefined : busy(limit);
  }

  // Closes the `count` least recently used idle connections: none of them has a request or a stream in progress.
  #evictIdle(count: number): void {
    let left = count;
    for (const tcp of this.#admitted) {
      if (left === 0) return;
      const http = (this.#tlsOver.get(tcp) ?? tcp) as HttpSocket;
      if (http._httpMessage) continue;
      this.#admitted.delete(tcp);
      tcp.destroy();
      this.#onEvicted();
      left--;
    }
  }
}

function busy(limit: number): DvmError {
  return new DvmError(
    'DVM_AGENT_BUSY',
    `the agent holds ${limit} connections, as many as agent.limits.connections allows, each with a request or stream in progress: this one is closed`,
    {
      fix: 'Send it again after Retry-After (dvm does so itself); keep connections alive and reuse them rather than opening new ones, or raise agent.limits.connections in config.yaml.',
      details: { limit },
    },
  );
}
