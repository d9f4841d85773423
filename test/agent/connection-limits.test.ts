import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { makeCertificate } from '../helpers/certificates.ts';
import { dvm, dvmAsync, tempDir, tempHome } from '../helpers/dvm.ts';
import { type RawAnswer, rawExchange } from '../helpers/raw-http.ts';
import { waitFor } from '../helpers/wait.ts';

/** One raw keep-alive connection (plain or TLS) to a server: a request at a time, and whether the server closed it. */
interface Connection {
  /** A GET, or a POST of `body` as JSON. */
  ask(path: string, headers?: Record<string, string>, body?: unknown): Promise<RawAnswer>;
  /** Raw bytes (a request cut short, say). */
  send(text: string): void;
  closed: Promise<void>;
  close(): void;
}

function openConnection(url: string, ca?: string): Promise<Connection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const ready = () =>
      resolve({
        ask: (path, headers = {}, body = undefined) => {
          const text = body === undefined ? '' : JSON.stringify(body);
          const all = {
            host: `localhost:${port}`,
            ...headers,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }),
          };
          const lines = Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`);
          return exchange.send(
            `${body === undefined ? 'GET' : 'POST'} ${path} HTTP/1.1\r\n${lines.join('')}\r\n${text}`,
          );
        },
        send: (text) => socket.write(text),
        closed: exchange.closed,
        close: () => socket.destroy(),
      });
    const socket: Socket = ca
      ? connectTls({ host: hostname, port: Number(port), ca, servername: 'localhost' }, ready)
      : connect(Number(port), hostname, ready);
    const exchange = rawExchange(socket);
    socket.once('error', reject);
  });
}

// The limit a DVM_TOO_MANY_STREAMS refusal's details name: which one, its value and the streams open in it.
const countOf = ({ scope, limit, open }: Record<string, unknown>) => ({ scope, limit, open });

// A text as a regular expression that matches it literally.
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// A metric's value in a /metrics answer.
function metric(text: string, name: string): number | undefined {
  const value = new RegExp(`^${literal(name)} (\\S+)$`, 'm').exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

/** A webhook whose answers wait until `release`: each notify.alert execution sent to it runs until then. */
async function heldWebhook() {
  let arrivals = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const hook = createServer((req, res) => {
    req.resume().on('end', () => {
      arrivals++;
      void released.then(() => res.writeHead(200).end('ok'));
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  return {
    env: { DVM_NOTIFY_ALERT_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alert` },
    arrivals: () => arrivals,
    release,
    close: () => {
      release();
      hook.close();
    },
  };
}

// An execute request of notify.alert (to a held webhook: it runs until released).
const heldAlert = (requestId: string) => ({
  request_id: requestId,
  action: 'notify.alert',
  params: { message: 'hi' },
  target: { env: 'dev' },
});

// Asserts the audit holds one DVM_TOO_MANY_STREAMS denial, of root's, for the reason `reason` matches.
async function assertOneStreamDenial(url: string, admin: string, reason: RegExp): Promise<void> {
  const audit = await api(url, 'GET', '/v1/audit?decision=denied', { token: admin });
  const denials = (
    audit.body.items as { actor: string; reasons: string[]; error?: { code: string } }[]
  ).filter((e) => e.error?.code === 'DVM_TOO_MANY_STREAMS');
  assert.equal(denials.length, 1, audit.text);
  assert.equal(denials[0].actor, 'root');
  assert.match(denials[0].reasons[0], reason);
}

/**
 * A `dvm serve` with `agent.limits.streams` (and `.streams_per_principal`, when given) set, running one notify.alert
 * execution (as admin) whose webhook holds its answer until `release`: the execution's id, the request still
 * waiting, and `done` to stop everything.
 */
async function heldExecution(streams: number, streamsPerPrincipal?: number) {
  const hook = await heldWebhook();
  const home = tempHome();
  const share = streamsPerPrincipal === undefined ? '' : `, streams_per_principal: ${streamsPerPrincipal}`;
  writeFileSync(join(home, 'config.yaml'), `agent:\n  limits: {streams: ${streams}${share}}\n`);
  const admin = createToken(home, 'root', 'admin');
  const serve = await startServe(home, hook.env);
  const done = async () => {
    hook.close();
    await serve.stop();
  };
  try {
    const executing = api(serve.url, 'POST', '/v1/actions/execute', {
      token: admin,
      body: heldAlert('held'),
    });
    await waitFor('the alert to reach the webhook', () => hook.arrivals() === 1);
    const running = await api(serve.url, 'GET', '/v1/executions?status=running', { token: admin });
    const id = (running.body.items as { id: string }[])[0]?.id;
    assert.ok(id, running.text);
    return { home, admin, serve, id, executing, release: hook.release, done };
  } catch (error) {
    await done();
    throw error;
  }
}

test('agent.limits.connections: at the limit a new connection takes the place of the oldest idle one (between requests, or still sending its headers); when every one is busy it is answered 503 DVM_AGENT_BUSY with Retry-After and closed, health too; counted in metrics; a reload changes the limit', async () => {
  const hook = await heldWebhook();
  const home = tempHome();
  const config = join(home, 'config.yaml');
  writeFileSync(config, 'agent:\n  limits: {connections: 2, connections_per_address: 2}\n');
  const admin = createToken(home, 'root', 'admin');
  const serve = await startServe(home, hook.env);
  const auth = { authorization: `Bearer ${admin}` };
  try {
    await waitFor('the agent settings line', () => /agent settings: /.test(serve.output()));
    assert.match(
      serve.output(),
      /agent settings: .*; connections 2 at once \(2 per address\); event streams 2048 at once \(1024 per principal\);/,
    );
    // Idle keep-alive connections, and one still sending its headers (a slow client): none locks others out. Each
    // new one closes the oldest idle one.
    const first = await openConnection(serve.url);
    const second = await openConnection(serve.url);
    assert.equal((await first.ask('/v1/health')).status, 200);
    assert.equal((await second.ask('/v1/health')).status, 200);
    const third = await openConnection(serve.url);
    assert.equal((await third.ask('/v1/health')).status, 200, 'the oldest idle one made room');
    await first.closed;
    const slow = await openConnection(serve.url);
    slow.send('GET /v1/health HTTP/1.1\r\nhost: localhost\r\n');
    const fourth = await openConnection(serve.url);
    assert.equal((await fourth.ask('/v1/health')).status, 200, 'so did the next ones');
    await second.closed; // made room for the slow one
    await third.closed; // and it for the fourth
    const fifth = await openConnection(serve.url);
    assert.equal((await fifth.ask('/v1/health')).status, 200, 'and the slow one');
    await slow.closed;

    // Both connections busy (a request in flight on each): a new one is refused, answered, and closed.
    const held = [
      fourth.ask('/v1/actions/execute', auth, heldAlert('busy-1')),
      fifth.ask('/v1/actions/execute', auth, heldAlert('busy-2')),
    ];
    await waitFor('both alerts to reach the webhook', () => hook.arrivals() === 2);
    const refused = await openConnection(serve.url);
    const busy = await refused.ask('/v1/health');
    assert.equal(busy.status, 503, busy.body);
    assert.match(busy.headers, /^retry-after: 1$/im);
    assert.match(busy.headers, /^connection: close$/im);
    const error = JSON.parse(busy.body);
    assert.deepEqual(Object.keys(error).sort(), ['code', 'details', 'message', 'reason']);
    assert.equal(error.code, 'DVM_AGENT_BUSY');
    assert.match(error.message, /holds 2 connections, as many as agent\.limits\.connections allows/);
    assert.match(error.details.fix, /raise agent\.limits\.connections/);
    await refused.closed; // answered, then closed by the server: not left hanging
    hook.release();
    for (const answer of await Promise.all(held)) assert.equal(answer.status, 200, answer.body);

    const metrics = async () => (await fifth.ask('/metrics', auth)).body;
    const scraped = await metrics();
    assert.equal(metric(scraped, 'dvm_agent_connections'), 2, scraped);
    assert.equal(metric(scraped, 'dvm_agent_connections_evicted_total'), 4, scraped);
    assert.equal(metric(scraped, 'dvm_agent_connections_rejected_total{limit="server"}'), 1, scraped);

    // A reloaded config.yaml applies to the next connection: a third one now fits beside the two.
    writeFileSync(config, 'agent:\n  limits: {connections: 3, connections_per_address: 3}\n');
    await waitFor('the reload', () => /config\.yaml reloaded: .*connections 3 at once/.test(serve.output()));
    const sixth = await openConnection(serve.url);
    assert.equal((await sixth.ask('/v1/health')).status, 200);
    assert.equal(metric(await metrics(), 'dvm_agent_connections'), 3);
    assert.equal(metric(await metrics(), 'dvm_agent_connections_evicted_total'), 4, 'no one made room');
    for (const connection of [fourth, fifth, sixth]) connection.close();
  } finally {
    hook.close();
    await serve.stop();
  }
});

test('agent.limits.connections under TLS: an idle TLS connection makes room; past busy ones the new one is answered 503 DVM_AGENT_BUSY over TLS', async (t) => {
  const dir = tempDir('dvm-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (!makeCertificate(cert, key, 'dvm-test')) return t.skip('openssl is not installed');
  const hook = await heldWebhook();
  const home = tempHome();
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  limits: {connections: 1}\n');
  const admin = createToken(home, 'root', 'admin');
  const serve = await startServe(home, hook.env, [
    '--listen',
    '127.0.0.1:0',
    '--tls-cert',
    cert,
    '--tls-key',
    key,
  ]);
  try {
    const ca = readFileSync(cert, 'utf8');
    const idle = await openConnection(serve.url, ca);
    assert.equal((await idle.ask('/v1/health')).status, 200);
    const next = await openConnection(serve.url, ca);
    assert.equal((await next.ask('/v1/health')).status, 200, 'the idle one made room');
    await idle.closed;
    const held = next.ask('/v1/actions/execute', { authorization: `Bearer ${admin}` }, heldAlert('tls-busy'));
    await waitFor('the alert to reach the webhook', () => hook.arrivals() === 1);
    const refused = await openConnection(serve.url, ca);
    const busy = await refused.ask('/v1/health');
    assert.equal(busy.status, 503, busy.body);
    assert.equal(JSON.parse(busy.body).code, 'DVM_AGENT_BUSY');
    await refused.closed;
    hook.release();
    assert.equal((await held).status, 200);
    next.close();
  } finally {
    hook.close();
    await serve.stop();
  }
});

test('agent.limits.streams: an event stream past the limit is 429 DVM_TOO_MANY_STREAMS with Retry-After (audited, counted); a stream whose client goes away frees its slot', async () => {
  const { admin, serve, id, executing, release, done } = await heldExecution(2, 2);
  try {
    const stream = async () => {
      const controller = new AbortController();
      const response = await fetch(new URL(`/v1/executions/${id}/events`, serve.url), {
        headers: { authorization: `Bearer ${admin}` },
        signal: controller.signal,
      });
      return { response, controller };
    };
    const metrics = async () => (await api(serve.url, 'GET', '/metrics', { token: admin })).text;

    const [one, two] = [await stream(), await stream()];
    assert.deepEqual([one.response.status, two.response.status], [200, 200]);
    const refused = await stream();
    assert.equal(refused.response.status, 429);
    assert.equal(refused.response.headers.get('retry-after'), '2');
    const error = (await refused.response.json()) as {
      code: string;
      message: string;
      details: { fix: string };
    };
    assert.equal(error.code, 'DVM_TOO_MANY_STREAMS');
    assert.match(error.message, /already sends 2 event streams, and agent\.limits\.streams allows 2/);
    assert.deepEqual(countOf(error.details), { scope: 'server', limit: 2, open: 2 });
    assert.match(error.details.fix, new RegExp(`GET /v1/executions/${id}`));
    assert.equal(metric(await metrics(), 'dvm_sse_streams_rejected_total{limit="server"}'), 1);
    assert.equal(metric(await metrics(), 'dvm_sse_streams_rejected_total{limit="per_principal"}'), 0);

    // The client of one goes away: its slot comes back once the server sees it.
    one.controller.abort();
    await waitFor('the stream to end', async () => metric(await metrics(), 'dvm_sse_clients') === 1);
    const three = await stream();
    assert.equal(three.response.status, 200);

    await assertOneStreamDenial(
      serve.url,
      admin,
      /GET \/v1\/executions\/:id\/events: 2 event streams open \(agent\.limits\.streams\)/,
    );

    // The execution ends: the streams end with it.
    release();
    assert.equal((await executing).status, 200);
    for (const open of [two, three]) assert.match(await open.response.text(), /event: completed/);
  } finally {
    await done();
  }
});

test('agent.limits.streams_per_principal: a principal past its share is 429 DVM_TOO_MANY_STREAMS saying per_principal (audited, counted) while another principal still opens one; closing one frees a slot; a reload changes the share', async () => {
  const { home, admin, serve, id, executing, release, done } = await heldExecution(10, 2);
  try {
    const other = (
      await dvmAsync(home, ['token', 'create', '--name', 'other', '--role', 'admin'])
    ).stdout.trim();
    const stream = async (token: string) => {
      const controller = new AbortController();
      const response = await fetch(new URL(`/v1/executions/${id}/events`, serve.url), {
        headers: { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      return { response, controller };
    };
    type Refusal = { code: string; message: string; details: Record<string, unknown> & { fix: string } };
    const refusalOf = async (open: { response: Response }) => {
      assert.equal(open.response.status, 429);
      assert.equal(open.response.headers.get('retry-after'), '2');
      return (await open.response.json()) as Refusal;
    };
    const metrics = async () => (await api(serve.url, 'GET', '/metrics', { token: admin })).text;
    await waitFor('the agent settings line', () => /agent settings: /.test(serve.output()));
    assert.match(serve.output(), /event streams 10 at once \(2 per principal\)/);

    const [a1, a2] = [await stream(admin), await stream(admin)];
    assert.deepEqual([a1.response.status, a2.response.status], [200, 200]);
    const refused = await refusalOf(await stream(admin));
    assert.equal(refused.code, 'DVM_TOO_MANY_STREAMS');
    assert.match(
      refused.message,
      /root already holds 2 event streams, and agent\.limits\.streams_per_principal allows one principal 2/,
    );
    assert.deepEqual(countOf(refused.details), { scope: 'per_principal', limit: 2, open: 2 });
    assert.match(refused.details.fix, /raise agent\.limits\.streams_per_principal in config\.yaml/);
    // Another principal is not locked out: the server holds 2 of its 10.
    const b1 = await stream(other);
    assert.equal(b1.response.status, 200);
    const scraped = await metrics();
    assert.equal(metric(scraped, 'dvm_sse_streams_rejected_total{limit="per_principal"}'), 1, scraped);
    assert.equal(metric(scraped, 'dvm_sse_streams_rejected_total{limit="server"}'), 0, scraped);
    assert.equal(metric(scraped, 'dvm_sse_clients'), 3, scraped);

    await assertOneStreamDenial(
      serve.url,
      admin,
      /GET \/v1\/executions\/:id\/events: root holds 2 event streams \(agent\.limits\.streams_per_principal\)/,
    );

    // One of root's streams goes away: its slot is root's again.
    a1.controller.abort();
    await waitFor('the stream to end', async () => metric(await metrics(), 'dvm_sse_clients') === 2);
    const a3 = await stream(admin);
    assert.equal(a3.response.status, 200);
    assert.equal((await refusalOf(await stream(admin))).details.scope, 'per_principal');

    // A reloaded config.yaml changes the share from the next stream on.
    writeFileSync(join(home, 'config.yaml'), 'agent:\n  limits: {streams: 10, streams_per_principal: 3}\n');
    await waitFor('the reload', () =>
      /config\.yaml reloaded: .*event streams 10 at once \(3 per principal\)/.test(serve.output()),
    );
    const a4 = await stream(admin);
    assert.equal(a4.response.status, 200);
    const past = await refusalOf(await stream(admin));
    assert.deepEqual(countOf(past.details), { scope: 'per_principal', limit: 3, open: 3 });

    release();
    assert.equal((await executing).status, 200);
    for (const open of [a2, a3, a4, b1]) assert.match(await open.response.text(), /event: completed/);
  } finally {
    await done();
  }
});

test('agent.limits.connections, .streams and .streams_per_principal must be positive integers, the share no more than .streams, and agent.allowed_hosts a list of host names: the error names the file, line and path', () => {
  for (const [yaml, line, path, message] of [
    [
      'agent:\n  limits: {connections: 0}\n',
      2,
      'agent.limits.connections',
      'must be a positive integer, not 0',
    ],
    ['agent:\n  limits: {streams: -1}\n', 2, 'agent.limits.streams', 'must be a positive integer, not -1'],
    [
      'agent:\n  limits: {streams: many}\n',
      2,
      'agent.limits.streams',
      'must be a positive integer, not "many"',
    ],
    [
      'agent:\n  limits: {streams_per_principal: 0}\n',
      2,
      'agent.limits.streams_per_principal',
      'must be a positive integer, not 0',
    ],
    [
      'agent:\n  limits:\n    streams: 100\n    streams_per_principal: 101\n',
      4,
      'agent.limits.streams_per_principal',
      'must not exceed agent.limits.streams (100), not 101',
    ],
    [
      'agent:\n  limits: {streams_per_principal: 4096}\n',
      2,
      'agent.limits.streams_per_principal',
      'must not exceed agent.limits.streams (2048, the default), not 4096',
    ],
    ['agent:\n  allowed_hosts: dvm.example.com\n', 2, 'agent.allowed_hosts', 'must be a list of host names'],
    [
      'agent:\n  allowed_hosts:\n    - ok.example\n    - dvm.example.com:8700\n',
      4,
      'agent.allowed_hosts[1]',
      '"dvm.example.com:8700" is not a host name',
    ],
  ] as const) {
    const home = tempHome();
    writeFileSync(join(home, 'config.yaml'), yaml);
    const run = dvm(home, ['serve', '--listen', '127.0.0.1:0'], { timeoutMs: 10_000 });
    assert.equal(run.status, 1, `${yaml}\n${run.stderr}`);
    assert.match(
      run.stderr,
      new RegExp(
        `DVM_SCHEMA_INVALID \\S*config\\.yaml:${line}:\\d+ ${literal(path)}: ${literal(`${path} ${message}`)}`,
      ),
      run.stderr,
    );
  }
});

for (const [limit, streams, perPrincipal, refusal] of [
  ['agent.limits.streams', 1, undefined, /already sends 1 event streams/],
  ['agent.limits.streams_per_principal', 10, 1, /root already holds 1 event streams/],
] as const) {
  test(`a follow that meets ${limit} waits for a slot: dvm execution logs -f goes on once another stream ends`, async () => {
    const { home, admin, serve, id, executing, release, done } = await heldExecution(streams, perPrincipal);
    try {
      const holder = new AbortController();
      const held = await fetch(new URL(`/v1/executions/${id}/events`, serve.url), {
        headers: { authorization: `Bearer ${admin}` },
        signal: holder.signal,
      });
      assert.equal(held.status, 200);
      const following = dvmAsync(home, ['execution', 'logs', id, '-f'], {
        env: { DVM_SERVER: serve.url, DVM_TOKEN: admin },
      });
      // The CLI was refused (the only slot, the server's or root's, is held) and waits rather than failing.
      const refusals = async () =>
        (await api(serve.url, 'GET', '/v1/audit?decision=denied', { token: admin })).body.items as {
          error?: { code: string; message: string };
        }[];
      await waitFor('the follow to be refused', async () =>
        (await refusals()).some(
          (e) => e.error?.code === 'DVM_TOO_MANY_STREAMS' && refusal.test(e.error.message),
        ),
      );
      holder.abort();
      release();
      assert.equal((await executing).status, 200);
      const run = await following;
      assert.equal(run.status, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /DVM_TOO_MANY_STREAMS/);
      assert.match(run.stdout + run.stderr, /succeeded/);
    } finally {
      await done();
    }
  });
}
