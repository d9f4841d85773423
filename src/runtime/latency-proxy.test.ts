import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { type TestContext, test } from 'node:test';
import { type LatencyProxyOptions, startLatencyProxy } from './latency-proxy.ts';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An echo server and a proxy in front of it, both torn down after the test. */
async function echoBehindProxy(t: TestContext, options: Omit<LatencyProxyOptions, 'target'>) {
  const echo = createServer((socket) => socket.pipe(socket));
  const port = await listen(echo);
  const proxy = await startLatencyProxy({ ...options, target: { host: '127.0.0.1', port } });
  t.after(() => new Promise((resolve) => echo.close(resolve)));
  t.after(() => proxy.close());
  return { echo, proxy };
}

async function dial(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

function readBytes(socket: Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < length) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

async function roundTripMs(port: number): Promise<number> {
  const socket = await dial(port);
  try {
    const started = performance.now();
    socket.write('ping');
    assert.equal((await readBytes(socket, 4)).toString(), 'ping');
    return performance.now() - started;
  } finally {
    socket.destroy();
  }
}

/** The server's connection count once it reaches 0, or whatever it is after a second. */
async function connectionsSettled(server: Server): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const count = await new Promise<number>((resolve, reject) =>
      server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
    );
    if (count === 0 || attempt === 20) return count;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('latency delays both directions, and a round trip without latency is fast', async (t) => {
  const slow = await echoBehindProxy(t, { latencyMs: 150 });
  assert.equal(slow.proxy.host, '127.0.0.1');
  const elapsed = await roundTripMs(slow.proxy.port);
  assert.ok(elapsed >= 300 && elapsed < 1500, `round trip took ${elapsed} ms`);
  const fast = await echoBehindProxy(t, { latencyMs: 0 });
  assert.ok((await roundTripMs(fast.proxy.port)) < 250);
});

test('jitter below zero is clamped to no delay', async (t) => {
  const { proxy } = await echoBehindProxy(t, { latencyMs: 300, jitterMs: 1000, random: () => 0 });
  assert.ok((await roundTripMs(proxy.port)) < 250);
});

test('5 MB in many chunks with jitter arrive intact and in order, then the half-close propagates', async (t) => {
  const { proxy } = await echoBehindProxy(t, { latencyMs: 10, jitterMs: 20 });
  const payload = randomBytes(5 * 1024 * 1024);
  const socket = await dial(proxy.port);
  const echoed = readBytes(socket, payload.length);
  const ended = once(socket, 'end');
  for (
    let offset = 0, size = 1;
    offset < payload.length;
    offset += size, size = 1 + ((size * 7919) % 65536)
  ) {
    socket.write(payload.subarray(offset, offset + size));
    if (offset % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  socket.end();
  assert.equal(sha256(await echoed), sha256(payload));
  await ended;
  assert.deepEqual(proxy.stats(), { connections: 1, bytesUp: payload.length, bytesDown: payload.length });
});

test('a target refusing connections closes the client socket', async (t) => {
  const proxy = await startLatencyProxy({
    target: { host: '127.0.0.1', port: await freePort() },
    latencyMs: 50,
  });
  t.after(() => proxy.close());
  const socket = await dial(proxy.port);
  socket.on('error', () => {});
  socket.write('hello');
  await once(socket, 'close');
  assert.deepEqual(proxy.stats(), { connections: 1, bytesUp: 0, bytesDown: 0 });
});

test('close() ends open connections and stops listening', async (t) => {
  const { echo, proxy } = await echoBehindProxy(t, { latencyMs: 20 });
  const socket = await dial(proxy.port);
  socket.on('error', () => {});
  socket.write('hi');
  await readBytes(socket, 2);
  const closed = once(socket, 'close');
  await proxy.close();
  await closed;
  assert.equal(await connectionsSettled(echo), 0);
  const refused = connect(proxy.port, '127.0.0.1');
  const [error] = await once(refused, 'error');
  assert.equal(error.code, 'ECONNREFUSED');
  await proxy.close(); // idempotent
});

test('stats count connections and bytes in each direction', async (t) => {
  const { proxy } = await echoBehindProxy(t, { latencyMs: 5 });
  for (const message of ['hello', 'world!']) {
    const socket = await dial(proxy.port);
    socket.write(message);
    await readBytes(socket, message.length);
    socket.destroy();
  }
  assert.deepEqual(proxy.stats(), { connections: 2, bytesUp: 11, bytesDown: 11 });
});

test('a client that stops reading pauses the target instead of buffering everything', async (t) => {
  const payload = randomBytes(48 * 1024 * 1024);
  const source = createServer((socket) => socket.end(payload));
  const proxy = await startLatencyProxy({
    target: { host: '127.0.0.1', port: await listen(source) },
    latencyMs: 5,
  });
  t.after(() => new Promise((resolve) => source.close(resolve)));
  t.after(() => proxy.close());
  const socket = await dial(proxy.port);
  socket.pause();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const stalled = proxy.stats().bytesDown;
  assert.ok(stalled < payload.length / 2, `forwarded ${stalled} bytes to a client that reads nothing`);
  const received = readBytes(socket, payload.length);
  socket.resume();
  assert.equal(sha256(await received), sha256(payload));
});
