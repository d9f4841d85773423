import type { Socket } from 'node:net';
import { DvmError } from '../../errors/dvm-error.ts';

/** How many connections, and Server-Sent Events streams, the agent API holds open at once. */
export interface ConnectionLimits {
  /** TCP (or TLS) connections: config.yaml `agent.limits.connections`. */
  connections: number;
  /** Event streams (`GET /v1/executions/{id}/events`) across the server: `agent.limits.streams`. */
  streams: number;
}

/** The limits when config.yaml sets none: far above a team's use (the bench's 1,000 streams fit), below exhausting the process. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { connections: 4096, streams: 10_000 };

/** How long a connection over the limit gets to send the request its 503 answers before it is cut unanswered. */
export const BUSY_GRACE_MS = 5000;

/**
 * Counts a server's open connections and marks each new one beyond the limit (read anew for every connection, so a
 * reloaded config.yaml counts from the next one): that connection's request is answered 503 DVM_AGENT_BUSY and the
 * connection closed, where Node's `server.maxConnections` would drop it unanswered. A marked connection holds no
 * place: one that sends nothing is cut after BUSY_GRACE_MS.
 */
export class ConnectionGate {
  readonly #limit: () => number;
  readonly #onRefused: () => void;
  // The limit each refused connection met.
  readonly #refused = new WeakMap<Socket, number>();
  #open = 0;

  constructor(limit: () => number, onRefused: () => void = () => {}) {
    this.#limit = limit;
    this.#onRefused = onRefused;
  }

  /** The connections held now (those within the limit). */
  get open(): number {
    return this.#open;
  }

  /** Takes a new TCP connection (under TLS too: the socket beneath): counts it, or marks it refused. */
  admit(socket: Socket): void {
    const limit = this.#limit();
    if (this.#open < limit) {
      this.#open++;
      socket.once('close', () => this.#open--);
      return;
    }
    this.#onRefused();
    this.#refused.set(socket, limit);
    const cut = setTimeout(() => socket.destroy(), BUSY_GRACE_MS).unref();
    socket.once('close', () => clearTimeout(cut));
  }

  /** The DVM_AGENT_BUSY refusal of a request that came on a refused connection (TCP or the TLS one over it), if so. */
  refusal(socket: Socket): DvmError | undefined {
    // A TLS socket's TCP socket is its _parent (Node's; the 'connection' event gives the TCP one).
    const limit =
      this.#refused.get(socket) ?? this.#refused.get((socket as { _parent?: Socket })._parent as Socket);
    return limit === undefined ? undefined : busy(limit);
  }
}

function busy(limit: number): DvmError {
  return new DvmError(
    'DVM_AGENT_BUSY',
    `the agent holds ${limit} connections, as many as agent.limits.connections allows: this one is closed`,
    {
      fix: 'Send it again after Retry-After (dvm does so itself); keep connections alive and reuse them rather than opening new ones, or raise agent.limits.connections in config.yaml.',
      details: { limit },
    },
  );
}

/** The 429 DVM_TOO_MANY_STREAMS refusal of an event stream beyond `agent.limits.streams`. */
export function tooManyStreams(limit: number, executionId: string): DvmError {
  return new DvmError(
    'DVM_TOO_MANY_STREAMS',
    `the agent already sends ${limit} event streams, as many as agent.limits.streams allows`,
    {
      fix: `Connect again after Retry-After (a stream frees when one ends), check GET /v1/executions/${executionId} instead, or raise agent.limits.streams in config.yaml.`,
      details: { limit },
    },
  );
}
