import type { Socket } from 'node:net';
import { DvmError } from '../../errors/dvm-error.ts';

/** How many connections, and Server-Sent Events streams, the agent API holds open at once. */
export interface ConnectionLimits {
  /** TCP (or TLS) connections: config.yaml `agent.limits.connections`. */
  connections: number;
  /** Connections one client address holds at once (at most `connections`): `agent.limits.connections_per_address`. */
  connectionsPerAddress: number;
  /** Event streams (`GET /v1/executions/{id}/events`) across the server: `agent.limits.streams`. */
  streams: number;
  /** Event streams one principal holds at once (at most `streams`): `agent.limits.streams_per_principal`. */
  streamsPerPrincipal: number;
}

/**
 * The limits when config.yaml sets none: far above a team's use (the bench's 1,000 streams fit), below exhausting the
 * process; one principal holds at most half of the streams (the bench's 1,000 clients of one token still fit), so one
 * token cannot lock the others out; one client address may hold every connection until config.yaml sets its share
 * (on loopback and behind a proxy every client is one address).
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  connections: 4096,
  connectionsPerAddress: 4096,
  streams: 2048,
  streamsPerPrincipal: 1024,
};

/** How long a connection over the limit gets to send the request its 503 answers before it is cut unanswered. */
export const BUSY_GRACE_MS = 2000;

/** How many refused connections may wait for that request at once: past them a refused one is cut at once. */
export const MAX_REFUSED_WAITING = 64;

/** Which limit refused a connection: the server's (`connections`) or its client address's share (`connections_per_address`). */
export type ConnectionScope = 'server' | 'per_address';

// A socket as Node's HTTP server keeps it: `_httpMessage` is the response in progress, null between requests.
type HttpSocket = Socket & { _httpMessage?: unknown; _parent?: Socket };

// No connections.
const NONE: ReadonlySet<Socket> = new Set();

// A refused connection's limit: which one, its value, and the client address it counted.
interface Refusal {
  scope: ConnectionScope;
  limit: number;
  address: string;
}

/**
 * Counts a server's open connections, in all and by client address. The limits are read anew for every connection,
 * so a reloaded config.yaml counts from the next one. A new connection whose address holds its share takes the place
 * of that address's least recently used idle one — kept alive between requests, or not done sending its first
 * request's headers; one at the server's limit takes the place of an idle one of the address that holds the most
 * connections (a flood gives way to itself, not to others' keep-alive connections), else of the least recently used
 * idle one, as nginx reuses its idle keep-alive connections. So idle or slow connections cannot lock others out.
 * When every candidate is busy (a request or an event stream in progress), the new one is marked refused: its request
 * is answered 503 DVM_AGENT_BUSY and the connection closed, where Node's `server.maxConnections` would drop it
 * unanswered. At most MAX_REFUSED_WAITING refused connections wait, each for BUSY_GRACE_MS; past them a refused
 * connection is cut at once.
 */
export class ConnectionGate {
  readonly #limits: () => Pick<ConnectionLimits, 'connections' | 'connectionsPerAddress'>;
  readonly #onRefused: (scope: ConnectionScope) => void;
  readonly #onEvicted: () => void;
  // Admitted connections (their TCP sockets), least recently used first.
  readonly #admitted = new Set<Socket>();
  // The same, by client address (least recently used first in each); an address that holds none has no entry.
  readonly #byAddress = new Map<string, Set<Socket>>();
  // Each admitted connection's client address, as read when it came (a closed socket's remoteAddress is gone).
  readonly #addressOf = new Map<Socket, string>();
  // Addresses by how many connections each holds (none at 0), and the highest such count: the address that holds
  // the most is found without a scan, as counts move one at a time.
  readonly #holding = new Map<number, Set<string>>();
  #most = 0;
  // The TLS socket over an admitted TCP one: the one the HTTP server keeps its requests on.
  readonly #tlsOver = new WeakMap<Socket, HttpSocket>();
  // Refused connections waiting for their request, with the limit each met.
  readonly #refused = new Map<Socket, Refusal>();

  constructor(
    limits: () => Pick<ConnectionLimits, 'connections' | 'connectionsPerAddress'>,
    onRefused: (scope: ConnectionScope) => void = () => {},
    onEvicted: () => void = () => {},
  ) {
    this.#limits = limits;
    this.#onRefused = onRefused;
    this.#onEvicted = onEvicted;
  }

  /** The connections held now (those within the limits). */
  get open(): number {
    return this.#admitted.size;
  }

  /** Takes a new TCP connection (under TLS too: the socket beneath): counts it, or marks it refused. */
  admit(socket: Socket): void {
    const address = clientAddress(socket);
    const refusal = this.#makeRoom(address);
    if (refusal) {
      this.#refuse(socket, refusal);
      return;
    }
    this.#add(socket, address);
    socket.once('close', () => this.#forget(socket));
  }

  /**
   * Notes a request on a connection (TCP, or the TLS socket over it): it becomes the most recently used, the last to
   * give way to a new connection.
   */
  used(socket: Socket): void {
    const tcp = (socket as HttpSocket)._parent ?? socket;
    if (!this.#admitted.delete(tcp)) return;
    this.#admitted.add(tcp);
    const own = this.#byAddress.get(this.#addressOf.get(tcp) as string);
    own?.delete(tcp);
    own?.add(tcp);
  }

  /** Notes the TLS socket over a TCP connection once its handshake is done (the server's 'secureConnection'). */
  secured(tls: Socket): void {
    const tcp = (tls as HttpSocket)._parent;
    if (tcp) this.#tlsOver.set(tcp, tls as HttpSocket);
  }

  /** The DVM_AGENT_BUSY refusal of a request that came on a refused connection (TCP or the TLS one over it), if so. */
  refusal(socket: Socket): DvmError | undefined {
    if (this.#refused.size === 0) return undefined;
    const refused = this.#refused.get(socket) ?? this.#refused.get((socket as HttpSocket)._parent as Socket);
    return refused === undefined ? undefined : busy(refused);
  }

  // Makes room for a new connection from `address`, closing idle ones as needed: the limit it meets when it cannot.
  #makeRoom(address: string): Refusal | undefined {
    const { connections, connectionsPerAddress } = this.#limits();
    // The address's share first, unless it is the whole: then the server's limit is the one met.
    const own = this.#byAddress.get(address);
    if (own && own.size >= connectionsPerAddress && connectionsPerAddress < connections) {
      this.#evictIdle(own, own.size - connectionsPerAddress + 1);
      if (own.size >= connectionsPerAddress)
        return { scope: 'per_address', limit: connectionsPerAddress, address };
    }
    if (this.#admitted.size >= connections) {
      let left = this.#admitted.size - connections + 1;
      for (const address of this.#heaviestFirst()) {
        if (left <= 0) break;
        left = this.#evictIdle(this.#byAddress.get(address) ?? NONE, left);
      }
      this.#evictIdle(this.#admitted, left);
    }
    return this.#admitted.size >= connections ? { scope: 'server', limit: connections, address } : undefined;
  }

  #refuse(socket: Socket, refusal: Refusal): void {
    this.#onRefused(refusal.scope);
    if (this.#refused.size >= MAX_REFUSED_WAITING) {
      socket.destroy();
      return;
    }
    this.#refused.set(socket, refusal);
    const cut = setTimeout(() => socket.destroy(), BUSY_GRACE_MS).unref();
    socket.once('close', () => {
      clearTimeout(cut);
      this.#refused.delete(socket);
    });
  }

  #add(socket: Socket, address: string): void {
    this.#admitted.add(socket);
    this.#addressOf.set(socket, address);
    let own = this.#byAddress.get(address);
    if (!own) {
      own = new Set();
      this.#byAddress.set(address, own);
    }
    own.add(socket);
    this.#count(address, own.size - 1, own.size);
  }

  // Drops a connection closed, or closed to make room (its 'close' comes later): a no-op the second time.
  #forget(socket: Socket): void {
    const address = this.#addressOf.get(socket);
    if (address === undefined) return;
    this.#addressOf.delete(socket);
    this.#admitted.delete(socket);
    const own = this.#byAddress.get(address) as Set<Socket>;
    own.delete(socket);
    if (own.size === 0) this.#byAddress.delete(address);
    this.#count(address, own.size + 1, own.size);
  }

  // Moves an address from those holding `from` connections to those holding `to` (one more or one less).
  #count(address: string, from: number, to: number): void {
    const was = this.#holding.get(from);
    was?.delete(address);
    if (was?.size === 0) this.#holding.delete(from);
    if (to > 0) {
      const now = this.#holding.get(to) ?? new Set<string>();
      now.add(address);
      this.#holding.set(to, now);
    }
    if (to > this.#most) this.#most = to;
    else if (from === this.#most && !this.#holding.has(from)) this.#most = to;
  }

  // The addresses that hold more than one connection, the most first (of those tied, the first to get there): when
  // every address holds one, the least recently used of all is the fair one to give way.
  #heaviestFirst(): string[] {
    if (this.#most < 2) return [];
    const counts = [...this.#holding.keys()].filter((count) => count >= 2).sort((a, b) => b - a);
    return counts.flatMap((count) => [...(this.#holding.get(count) ?? [])]);
  }

  // Closes up to `count` of the least recently used idle connections of `among` (none of them has a request or a
  // stream in progress); answers how many it could not close.
  #evictIdle(among: ReadonlySet<Socket>, count: number): number {
    let left = count;
    for (const tcp of among) {
      if (left <= 0) break;
      const http = (this.#tlsOver.get(tcp) ?? tcp) as HttpSocket;
      if (http._httpMessage) continue;
      this.#forget(tcp);
      tcp.destroy();
      this.#onEvicted();
      left--;
    }
    return Math.max(0, left);
  }
}

/** A socket's client address, an IPv4 one given as IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as IPv4: one host, one key. */
export function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) return address.slice(7);
  return address.includes(':') ? ipv6Network(address) : address;
}

// An IPv6 address's /64 network (`2001:db8:0:1::/64`): one host has a whole /64 to take addresses from. The loopback
// `::1` stays itself.
function ipv6Network(address: string): string {
  const bare = address.split('%')[0].toLowerCase();
  if (bare === '::1') return bare;
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const front = groups(head);
  const back = groups(tail);
  const all =
    tail === undefined
      ? front
      : [...front, ...Array(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return `${all
    .slice(0, 4)
    .map((group) => Number.parseInt(group || '0', 16).toString(16))
    .join(':')}::/64`;
}

function busy({ scope, limit, address }: Refusal): DvmError {
  if (scope === 'per_address')
    return new DvmError(
      'DVM_AGENT_BUSY',
      `${address} holds ${limit} connections, as many as agent.limits.connections_per_address allows one client address, each with a request or stream in progress: this one is closed`,
      {
        fix: 'Send it again after Retry-After (dvm does so itself); keep connections alive and reuse them rather than opening new ones, or raise agent.limits.connections_per_address in config.yaml (behind a proxy every connection comes from its address: set it to agent.limits.connections).',
        details: { limit, scope, address },
      },
    );
  return new DvmError(
    'DVM_AGENT_BUSY',
    `the agent holds ${limit} connections, as many as agent.limits.connections allows, each with a request or stream in progress: this one is closed`,
    {
      fix: 'Send it again after Retry-After (dvm does so itself); keep connections alive and reuse them rather than opening new ones, or raise agent.limits.connections in config.yaml.',
      details: { limit, scope },
    },
  );
}
