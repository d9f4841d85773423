import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type RawAnswer, rawExchange } from '../../../test/helpers/raw-http.ts';
import { openAgent } from '../agent.ts';
import { readAgentConfig } from '../agent-config.ts';
import { BUSY_GRACE_MS, ConnectionGate, clientAddress, MAX_REFUSED_WAITING } from './connection-limits.ts';
import { createAgentServer } from './create-server.ts';

type FakeSocket = Socket & { destroyed: boolean; _httpMessage?: unknown };

// A stand-in for a TCP socket from `remoteAddress`: closes when destroyed; `busy` sets the response in progress, as
// Node's server does.
function fakeSocket(busy = false, remoteAddress = '127.0.0.1'): FakeSocket {
  const socket = new EventEmitter() as unknown as FakeSocket;
  socket.destroyed = false;
  (socket as { remoteAddress?: string }).remoteAddress = remoteAddress;
  socket._httpMessage = busy ? {} : null;
  socket.destroy = () => {
    socket.destroyed = true;
    socket.emit('close');
    return socket;
  };
  return socket;
}

// A gate whose limits are read from `limit` (and `perAddress`: the whole when not given), counting what it does.
function counting(limit: () => number, perAddress: () => number = limit) {
  const counts = { refused: 0, evicted: 0, scopes: [] as string[] };
  const gate = new ConnectionGate(
    () => ({ connections: limit(), connectionsPerAddress: perAddress() }),
    (scope) => {
      counts.refused++;
      counts.scopes.push(scope);
    },
    () => counts.evicted++,
  );
  return { gate, counts };
}

test('at its limit a ConnectionGate closes the oldest idle connection for a new one; busy ones are never closed', () => {
  const { gate, counts } = counting(() => 2);
  const [older, busy, newer] = [fakeSocket(), fakeSocket(true), fakeSocket()];
  gate.admit(older);
  gate.admit(busy);
  gate.admit(newer);
  assert.deepEqual([older.destroyed, busy.destroyed, gate.open, counts.evicted], [true, false, 2, 1]);
  // The idle one now is the newer: the busy one stays, whatever its age.
  const last = fakeSocket();
  gate.admit(last);
  assert.deepEqual([busy.destroyed, newer.destroyed, gate.open, counts.evicted], [false, true, 2, 2]);
  assert.equal(counts.refused, 0);
});

test('the idle connection that gives way is the least recently used, not the first admitted', () => {
  const { gate, counts } = counting(() => 2);
  const [early, late] = [fakeSocket(), fakeSocket()];
  gate.admit(early);
  gate.admit(late);
  gate.used(early); // a request on the early one: the late one has been idle longer
  const next = fakeSocket();
  gate.admit(next);
  assert.deepEqual([early.destroyed, late.destroyed, counts.evicted], [false, true, 1]);
  // A request through the TLS socket over a connection counts for that connection.
  gate.used(early);
  gate.used({ _parent: next } as unknown as Socket);
  gate.admit(fakeSocket());
  assert.deepEqual([early.destroyed, next.destroyed], [true, false]);
});

test('under TLS the gate tells idle from busy by the TLS socket over each TCP one', () => {
  const { gate, counts } = counting(() => 1);
  const tcp = fakeSocket();
  gate.admit(tcp);
  // The TCP socket itself carries no request: the TLS socket over it does.
  gate.secured({ _parent: tcp, _httpMessage: {} } as unknown as Socket);
  const next = fakeSocket();
  gate.admit(next);
  assert.deepEqual([tcp.destroyed, counts.evicted, counts.refused], [false, 0, 1]);
  assert.equal(
    gate.refusal({ _parent: next } as unknown as Socket)?.code,
    'DVM_AGENT_BUSY',
    'the TLS socket over it',
  );
});

test('with every connection busy a new one is marked refused, cut if it sends nothing; the limit is read per connection', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let limit = 1;
  const { gate, counts } = counting(() => limit);
  const [held, over] = [fakeSocket(true), fakeSocket()];
  gate.admit(held);
  gate.admit(over);
  assert.deepEqual([gate.open, counts.refused], [1, 1]);
  assert.equal(gate.refusal(held), undefined);
  const busy = gate.refusal(over);
  assert.equal(busy?.code, 'DVM_AGENT_BUSY');
  assert.equal(busy?.httpStatus, 503);
  assert.deepEqual(busy?.details, { limit: 1, scope: 'server' });
  assert.deepEqual(counts.scopes, ['server']);

  t.mock.timers.tick(BUSY_GRACE_MS - 1);
  assert.equal(over.destroyed, false, 'it gets the time to send its request');
  t.mock.timers.tick(1);
  assert.equal(over.destroyed, true, 'then it is cut');
  assert.equal(held.destroyed, false);

  held.emit('close');
  assert.equal(gate.open, 0, 'a closed connection frees its place');
  limit = 2;
  const [a, b] = [fakeSocket(true), fakeSocket(true)];
  gate.admit(a);
  gate.admit(b);
  assert.deepEqual([gate.open, counts.refused], [2, 1], 'a raised limit counts from the next connection');
});

test('at most MAX_REFUSED_WAITING refused connections wait for their request: past them one is cut at once', () => {
  const { gate, counts } = counting(() => 1);
  gate.admit(fakeSocket(true));
  const waiting = Array.from({ length: MAX_REFUSED_WAITING }, () => fakeSocket());
  for (const socket of waiting) gate.admit(socket);
  assert.ok(waiting.every((socket) => !socket.destroyed));
  const past = fakeSocket();
  gate.admit(past);
  assert.equal(past.destroyed, true);
  assert.equal(counts.refused, MAX_REFUSED_WAITING + 1);
  for (const socket of waiting) socket.destroy();
});

test('a client address is one key however it is written: an IPv4-mapped IPv6 address is its IPv4 one, an IPv6 one its /64', () => {
  const of = (remoteAddress: string | undefined) => clientAddress({ remoteAddress } as Socket);
  assert.deepEqual(
    [
      of('::ffff:10.0.0.5'),
      of('::FFFF:10.0.0.5'),
      of('10.0.0.5'),
      of('::1'),
      of('::ffff:a00:5'),
      of(undefined),
      of('2001:db8:0:1::5'),
      of('2001:DB8:0:1:ffff:1:2:3'),
      of('fe80::1%eth0'),
      of('2001:db8::'),
    ],
    [
      '10.0.0.5',
      '10.0.0.5',
      '10.0.0.5',
      '::1',
      '0:0:0:0::/64',
      '',
      '2001:db8:0:1::/64',
      '2001:db8:0:1::/64',
      'fe80:0:0:0::/64',
      '2001:db8:0:0::/64',
    ],
  );
  // The gate counts both spellings as one address: the second takes the place of the first at a share of 1.
  const { gate, counts } = counting(
    () => 10,
    () => 1,
  );
  const [mapped, plain] = [fakeSocket(false, '::ffff:10.0.0.5'), fakeSocket(false, '10.0.0.5')];
  gate.admit(mapped);
  gate.admit(plain);
  assert.deepEqual([mapped.destroyed, plain.destroyed, gate.open, counts.evicted], [true, false, 1, 1]);
});

test("an address that holds its share: its own least recently used idle connection gives way, never another's; all of its own busy, the new one is refused per_address", () => {
  const { gate, counts } = counting(
    () => 10,
    () => 2,
  );
  const other = fakeSocket(false, '10.0.0.9'); // the oldest idle connection of all, of another address
  const [idle, held] = [fakeSocket(false, '10.0.0.1'), fakeSocket(true, '10.0.0.1')];
  for (const socket of [other, idle, held]) gate.admit(socket);
  const next = fakeSocket(false, '10.0.0.1');
  gate.admit(next);
  assert.deepEqual([other.destroyed, idle.destroyed, held.destroyed, gate.open], [false, true, false, 3]);
  assert.equal(gate.refusal(next), undefined);

  next._httpMessage = {}; // both of 10.0.0.1's connections busy now
  const over = fakeSocket(false, '10.0.0.1');
  gate.admit(over);
  assert.deepEqual(
    [over.destroyed, gate.open, counts.refused, counts.scopes],
    [false, 3, 1, ['per_address']],
  );
  const busy = gate.refusal(over);
  assert.equal(busy?.code, 'DVM_AGENT_BUSY');
  assert.equal(busy?.httpStatus, 503);
  assert.deepEqual(busy?.details, { limit: 2, scope: 'per_address', address: '10.0.0.1' });
  assert.match(
    busy?.message ?? '',
    /10\.0\.0\.1 holds 2 connections, as many as agent\.limits\.connections_per_address/,
  );
  assert.match(busy?.fix ?? '', /raise agent\.limits\.connections_per_address/);
  over.destroy();
  // Another address is not locked out: the server holds 3 of its 10.
  const another = fakeSocket(false, '10.0.0.2');
  gate.admit(another);
  assert.deepEqual([another.destroyed, gate.open, counts.refused], [false, 4, 1]);
  // A connection of 10.0.0.1 that closes frees a place in its share.
  held.destroy();
  const again = fakeSocket(false, '10.0.0.1');
  gate.admit(again);
  assert.deepEqual(
    [again.destroyed, gate.refusal(again), gate.open, counts.evicted],
    [false, undefined, 4, 1],
  );
});

test('at the server limit the address that holds the most gives way first; its connections all busy, the least recently used idle one of all does', () => {
  const { gate, counts } = counting(() => 4);
  const keepAlive = fakeSocket(false, '10.0.0.1'); // idle for longest
  const flood = [fakeSocket(), fakeSocket(), fakeSocket()];
  for (const socket of [keepAlive, ...flood]) gate.admit(socket);
  const more = fakeSocket();
  gate.admit(more);
  assert.deepEqual(
    [keepAlive.destroyed, ...flood.map((s) => s.destroyed), more.destroyed],
    [false, true, false, false, false],
    "the flood's oldest idle one went, not the older keep-alive one of 10.0.0.1",
  );
  // The flood's least recently used goes first: a request moved flood[1] behind flood[2].
  gate.used(flood[1]);
  const latest = fakeSocket();
  gate.admit(latest);
  assert.deepEqual([flood[1].destroyed, flood[2].destroyed, keepAlive.destroyed], [false, true, false]);
  // Every one of the flood's connections busy: the least recently used idle one of all gives way.
  for (const socket of [flood[1], more, latest]) socket._httpMessage = {};
  const last = fakeSocket();
  gate.admit(last);
  assert.deepEqual([keepAlive.destroyed, last.destroyed, gate.open, counts.evicted], [true, false, 4, 3]);
  assert.equal(counts.refused, 0);
});

test('at the server limit, when the address that holds the most is all busy, the next heaviest gives way before a single keep-alive connection does', () => {
  const { gate } = counting(
    () => 6,
    () => 3,
  );
  const busy = [fakeSocket(true, '10.0.0.1'), fakeSocket(true, '10.0.0.1'), fakeSocket(true, '10.0.0.1')];
  const keepAlive = fakeSocket(false, '10.0.0.3');
  const flood = [fakeSocket(false, '10.0.0.2'), fakeSocket(false, '10.0.0.2')];
  for (const socket of [...busy, keepAlive, ...flood]) gate.admit(socket);
  const more = fakeSocket(false, '10.0.0.2');
  gate.admit(more);
  assert.deepEqual(
    [
      keepAlive.destroyed,
      flood[0].destroyed,
      flood[1].destroyed,
      more.destroyed,
      busy.some((s) => s.destroyed),
    ],
    [false, true, false, false, false],
  );
});

test('the address that holds the most is followed as connections close (ties: the first to get there); when every address holds one, the least recently used idle one gives way', () => {
  const { gate } = counting(() => 5);
  const [c1, c2] = [fakeSocket(false, '10.0.0.3'), fakeSocket(false, '10.0.0.3')];
  const [a1, a2, a3] = [
    fakeSocket(false, '10.0.0.1'),
    fakeSocket(false, '10.0.0.1'),
    fakeSocket(false, '10.0.0.1'),
  ];
  for (const socket of [c1, c2, a1, a2, a3]) gate.admit(socket);
  // 10.0.0.1 held the most (3); two of its connections close, and 10.0.0.3's are used: a1 is the least recently used.
  a2.destroy();
  a3.destroy();
  gate.used(c1);
  gate.used(c2);
  const [d1, d2] = [fakeSocket(false, '10.0.0.4'), fakeSocket(false, '10.0.0.4')];
  gate.admit(d1);
  gate.admit(d2);
  gate.admit(fakeSocket(false, '10.0.0.5'));
  assert.deepEqual(
    [a1.destroyed, c1.destroyed, c2.destroyed, d1.destroyed, d2.destroyed, gate.open],
    [false, true, false, false, false, 5],
    '10.0.0.3 and 10.0.0.4 hold 2 each, 10.0.0.3 first: its least recently used gave way, not a1',
  );

  const one = counting(() => 2).gate;
  const [x, y] = [fakeSocket(false, '10.0.0.1'), fakeSocket(false, '10.0.0.2')];
  one.admit(x);
  one.admit(y);
  one.used(x);
  one.admit(fakeSocket(false, '10.0.0.3'));
  assert.deepEqual(
    [x.destroyed, y.destroyed],
    [false, true],
    'one each: the least recently used, y, gave way',
  );
});

/** One raw keep-alive connection to a real agent server, from a loopback source address of the test's choosing. */
interface Connection {
  /** A GET; rejects if the server closes the connection first. */
  ask(path: string, headers?: Record<string, string>): Promise<RawAnswer>;
  /** Sends the headers of a POST and part of its body: the request stays in progress (busy) until `finish`. */
  hold(token: string): Promise<void>;
  /** The rest of the held request's body; its answer. */
  finish(): Promise<RawAnswer>;
  closed: Promise<void>;
  close(): void;
}

/**
 * A real agent server (openAgent + createAgentServer, on 127.0.0.1) on a fresh home whose config.yaml sets
 * `agent.limits` to `limits` (YAML flow mapping); `reload` rewrites it and applies it as `dvm serve` does on a change.
 */
async function agentServer(limits: string) {
  const home = mkdtempSync(join(tmpdir(), 'dvm-connections-'));
  const config = join(home, 'config.yaml');
  writeFileSync(config, `agent:\n  limits: ${limits}\n`);
  const agent = await openAgent(home);
  const app = createAgentServer(agent);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const { token } = agent.tokens.create('ops', 'operator');
  const opened: Connection[] = [];

  const open = (localAddress = '127.0.0.1'): Promise<Connection> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress });
      const { send: answer, closed } = rawExchange(socket);
      socket.once('error', reject);
      socket.once('connect', () => {
        const connection: Connection = {
          ask: (path, headers = {}) =>
            answer(
              `GET ${path} HTTP/1.1\r\nhost: localhost:${port}\r\n${Object.entries(headers)
                .map(([k, v]) => `${k}: ${v}\r\n`)
                .join('')}\r\n`,
            ),
          hold: async (bearer) => {
            // Past its headers the server has a request in progress on it: the connection is busy.
            const seen = once(app.server, 'request');
            socket.write(
              `POST /v1/actions/execute HTTP/1.1\r\nhost: localhost:${port}\r\nauthorization: Bearer ${bearer}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{`,
            );
            await seen;
          },
          finish: () => answer('}'),
          closed,
          close: () => socket.destroy(),
        };
        opened.push(connection);
        resolve(connection);
      });
    });

  return {
    open,
    token,
    auth: { authorization: `Bearer ${token}` },
    async reload(next: string) {
      writeFileSync(config, `agent:\n  limits: ${next}\n`);
      agent.reconfigure(await readAgentConfig(home, process.env));
    },
    async stop() {
      for (const connection of opened) connection.close();
      await app.close();
      await agent.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

// A metric's value in a /metrics answer.
function metric(text: string, name: string): number | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const value = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

// Resolves with `promise`, or fails saying `what` did not happen within `ms`.
async function within<T>(promise: Promise<T>, what: string, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new assert.AssertionError({ message: `${what}: not within ${ms} ms` })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('agent.limits.connections_per_address over TCP: a third busy connection from 127.0.0.1 at a share of 2 is 503 DVM_AGENT_BUSY per_address, Retry-After, closed, while another address still connects; counted by limit; a reload changes the share', async () => {
  const server = await agentServer('{connections_per_address: 2}');
  try {
    const [first, second] = [await server.open(), await server.open()];
    await first.hold(server.token);
    await second.hold(server.token);
    const third = await server.open();
    const busy = await third.ask('/v1/health');
    assert.equal(busy.status, 503, busy.body);
    assert.match(busy.headers, /^retry-after: 1$/im);
    assert.match(busy.headers, /^connection: close$/im);
    const error = JSON.parse(busy.body);
    assert.equal(error.code, 'DVM_AGENT_BUSY');
    assert.match(
      error.message,
      /127\.0\.0\.1 holds 2 connections, as many as agent\.limits\.connections_per_address allows one client address/,
    );
    assert.deepEqual(
      { scope: error.details.scope, limit: error.details.limit, address: error.details.address },
      { scope: 'per_address', limit: 2, address: '127.0.0.1' },
    );
    assert.match(error.details.fix, /raise agent\.limits\.connections_per_address/);
    await within(third.closed, 'the refused connection closed by the server');

    // The server holds 2 of its 4,096: another address is not locked out.
    const other = await server.open('127.0.0.2');
    assert.equal((await other.ask('/v1/health')).status, 200);
    const scraped = (await other.ask('/metrics', server.auth)).body;
    assert.equal(metric(scraped, 'dvm_agent_connections_rejected_total{limit="per_address"}'), 1, scraped);
    assert.equal(metric(scraped, 'dvm_agent_connections_rejected_total{limit="server"}'), 0, scraped);
    assert.equal(metric(scraped, 'dvm_agent_connections'), 3, scraped);

    // The held requests go on, answered on their connections.
    assert.notEqual((await first.finish()).status, 503);

    // A reloaded config.yaml applies to the next connection: 127.0.0.1 now holds up to 3.
    await first.hold(server.token);
    await server.reload('{connections_per_address: 3}');
    const fourth = await server.open();
    assert.equal((await fourth.ask('/v1/health')).status, 200);
  } finally {
    await server.stop();
  }
});

test("agent.limits.connections_per_address over TCP: at its share an address's least recently used idle connection gives way to its new one; its busy one and another address's stay", async () => {
  const server = await agentServer('{connections_per_address: 2}');
  try {
    // 127.0.0.2's connection is the least recently used of all, and the server is far from its limit.
    const other = await server.open('127.0.0.2');
    assert.equal((await other.ask('/v1/health')).status, 200);
    const idle = await server.open();
    assert.equal((await idle.ask('/v1/health')).status, 200);
    const held = await server.open();
    await held.hold(server.token);
    const next = await server.open();
    assert.equal((await next.ask('/v1/health')).status, 200, 'its idle one made room');
    await within(idle.closed, "127.0.0.1's idle connection closed by the server");
    assert.notEqual((await held.finish()).status, 503, 'the busy one stayed and is answered');
    const scraped = (await other.ask('/metrics', server.auth)).body;
    assert.equal(metric(scraped, 'dvm_agent_connections_evicted_total'), 1, scraped);
    assert.equal(metric(scraped, 'dvm_agent_connections'), 3, scraped);
    assert.equal(metric(scraped, 'dvm_agent_connections_rejected_total{limit="per_address"}'), 0, scraped);
  } finally {
    await server.stop();
  }
});

for (const [limits, why, held] of [
  [
    '{connections: 3, connections_per_address: 3}',
    'at the server limit the flooding address gives way first',
    2,
  ],
  ['{connections: 4}', 'the default share is all of them: the flooding address still gives way first', 3],
] as const) {
  test(`a flood of connections from one address does not close another address's idle keep-alive connection (${limits}: ${why})`, async () => {
    const server = await agentServer(limits);
    try {
      // 127.0.0.2 keeps one connection alive and idle: the least recently used of all through the flood.
      const keepAlive = await server.open('127.0.0.2');
      assert.equal((await keepAlive.ask('/v1/health')).status, 200);
      const flood: Connection[] = [];
      for (let i = 0; i < 8; i++) {
        const connection = await server.open();
        assert.equal((await connection.ask('/v1/health')).status, 200, `flood connection ${i}`);
        flood.push(connection);
      }
      assert.equal((await keepAlive.ask('/v1/health')).status, 200, "127.0.0.2's connection survived");
      // The flood's own idle connections gave way, oldest first: its last ones are held.
      await within(
        Promise.all(flood.slice(0, -held).map((c) => c.closed)),
        "the flood's older connections closed",
      );
      for (const connection of flood.slice(-held))
        assert.equal((await connection.ask('/v1/health')).status, 200);
      const scraped = (await keepAlive.ask('/metrics', server.auth)).body;
      assert.equal(metric(scraped, 'dvm_agent_connections'), held + 1, scraped);
      assert.equal(metric(scraped, 'dvm_agent_connections_evicted_total'), 8 - held, scraped);
    } finally {
      await server.stop();
    }
  });
}
