import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

/** Where startLatencyProxy forwards to, where it listens, and how long each chunk is held back. */
export interface LatencyProxyOptions {
  target: { host: string; port: number };
  listen?: { host?: string; port?: number };
  latencyMs: number;
  jitterMs?: number;
  random?: () => number;
}

/** Accepted connections and bytes forwarded client-to-target (up) and target-to-client (down). */
export interface LatencyProxyStats {
  connections: number;
  bytesUp: number;
  bytesDown: number;
}

/** A running latency proxy: its listening address, its counters, and close() to stop it and drop all connections. */
export interface LatencyProxy {
  host: string;
  port: number;
  stats(): LatencyProxyStats;
  close(): Promise<void>;
}

/** Starts a TCP proxy to options.target that delays every chunk in each direction by latencyMs ± jitterMs, keeping byte order. */
export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const { target, latencyMs, jitterMs = 0, random = Math.random } = options;
  const delay = () => Math.max(0, latencyMs + (random() * 2 - 1) * jitterMs);
  const totals: LatencyProxyStats = { connections: 0, bytesUp: 0, bytesDown: 0 };
  const sockets = new Set<Socket>();

  // Half-open sockets let an ended direction flush its delayed chunks while the other one keeps flowing.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    totals.connections++;
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(socket);
      socket.on('error', () => {}); // a failure surfaces as 'close' below, which tears down the pair
      socket.on('close', () => {
        sockets.delete(socket);
        // Closed cleanly means both directions were ended and flushed; anything else aborts the peer.
        if (!(socket.readableEnded && socket.writableFinished)) other.destroy();
      });
    }
    relay(client, upstream, delay, (bytes) => {
      totals.bytesUp += bytes;
    });
    relay(upstream, client, delay, (bytes) => {
      totals.bytesDown += bytes;
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {}); // accept failures (EMFILE) must not crash the process

  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    stats: () => ({ ...totals }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** Forwards src's chunks to dst each at max(arrival + delay, previous due time), then ends dst after src ended and the queue drained. */
function relay(src: Socket, dst: Socket, delay: () => number, count: (bytes: number) => void): void {
  const queue: { chunk: Buffer; due: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastDue = 0;
  let ended = false;
  let waitingForDrain = false;

  const flush = () => {
    timer = undefined;
    if (dst.destroyed) {
      queue.length = 0;
      return;
    }
    while (queue.length > 0 && queue[0].due <= performance.now()) {
      const { chunk } = queue.shift() as { chunk: Buffer };
      count(chunk.length);
      if (!dst.write(chunk) && !waitingForDrain) {
        waitingForDrain = true;
        src.pause();
        dst.once('drain', () => {
          waitingForDrain = false;
          src.resume();
        });
      }
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(1, queue[0].due - performance.now()));
    else if (ended) dst.end();
  };

  src.on('data', (chunk: Buffer) => {
    lastDue = Math.max(performance.now() + delay(), lastDue);
    queue.push({ chunk, due: lastDue });
    timer ??= setTimeout(flush, Math.max(0, lastDue - performance.now()));
  });
  src.on('end', () => {
    ended = true;
    if (!timer) flush();
  });
  dst.on('close', () => {
    clearTimeout(timer);
    queue.length = 0;
  });
}
