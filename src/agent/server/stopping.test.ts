import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openAgent } from '../agent.ts';
import { CLOSE_GRACE_MS, createAgentServer, REQUEST_TIMEOUT_MS } from './create-server.ts';

type RawResponse = { status: number; headers: string; body: string };

// Splits what one connection received into its HTTP/1.1 responses (bodies by content-length).
function responsesOf(raw: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  while (rest.subarray(0, 8).toString() === 'HTTP/1.1') {
    const end = rest.indexOf('\r\n\r\n');
    const headers = rest.subarray(0, end).toString();
    const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? 0);
    out.push({
      status: Number(headers.split(' ')[1]),
      headers,
      body: rest.subarray(end + 4, end + 4 + length).toString(),
    });
    rest = rest.subarray(end + 4 + length);
  }
  return out;
}

/**
 * Starts a real agent API, sends an alert whose webhook answers only after 300 ms, closes the server while that
 * request runs, then sends `next` on the same keep-alive connection: what reaches a stopping agent. Returns every
 * response of the connection (until the server closes it) and the agent's audit decisions of notify.alert.
 */
async function whileStopping(next: string): Promise<{ responses: RawResponse[]; audited: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'dvm-stopping-'));
  let arrived!: () => void;
  const alertArrived = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const webhook = createServer((req, res) => {
    req.resume().on('end', () => {
      arrived();
      setTimeout(() => res.writeHead(200).end('ok'), 300);
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alert`;
  const agent = await openAgent(home, {
    env: { ...(process.env as Record<string, string>), DVM_NOTIFY_ALERT_URL: hookUrl },
  });
  const app = createAgentServer(agent);
  try {
    const { token } = agent.tokens.create('ops', 'operator');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    const body = JSON.stringify({
      request_id: 'in-flight',
      action: 'notify.alert',
      params: { message: 'deploy done' },
      target: { env: 'dev' },
    });
    socket.write(
      `POST /v1/actions/execute HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await alertArrived;
    const closing = app.close();
    // Sent on the connection whose request still runs: it reaches a server that is closing.
    socket.write(next.replaceAll('TOKEN', token));
    await ended;
    await closing;
    const audited = agent.audit.query({ action: 'notify.alert' }).items.map((e) => e.decision);
    return { responses: responsesOf(Buffer.concat(chunks)), audited };
  } finally {
    await agent.close();
    webhook.close();
    rmSync(home, { recursive: true, force: true });
  }
}

test('a request that reaches a stopping agent is 503 DVM_AGENT_STOPPING in the API error shape, and the one in flight ends normally', async () => {
  const { responses, audited } = await whileStopping(
    'GET /v1/actions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer TOKEN\r\n\r\n',
  );
  const [inFlight, refused] = responses;
  assert.equal(inFlight?.status, 200, JSON.stringify(responses));
  assert.equal(JSON.parse(inFlight.body).status, 'succeeded');
  assert.equal(refused?.status, 503, JSON.stringify(responses));
  assert.match(refused.headers, /^connection: close$/im);
  assert.match(refused.headers, /^retry-after: 1$/im, 'a client may send it again shortly');
  const error = JSON.parse(refused.body);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'details', 'message', 'reason']);
  assert.equal(error.code, 'DVM_AGENT_STOPPING');
  assert.deepEqual(audited, ['allowed', 'executed'], 'the request in flight was audited to its end');
});

test('health on a stopping agent is 503 with its report, unavailable, so a load balancer drains it', async () => {
  const { responses } = await whileStopping('GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const health = responses[1];
  assert.equal(health?.status, 503, JSON.stringify(responses));
  assert.deepEqual(JSON.parse(health.body), {
    status: 'unavailable',
    connectors: { store: { status: 'unavailable', detail: 'the agent is stopping' } },
  });
});

test('a request still arriving (headers or body half sent) does not hold a closing agent; the server times such requests out', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-stopping-'));
  const agent = await openAgent(home);
  const app = createAgentServer(agent);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    assert.equal(
      app.server.requestTimeout,
      REQUEST_TIMEOUT_MS,
      'Node answers 408 to a request slower than this',
    );
    const { port } = app.server.address() as AddressInfo;
    // Each resolves once its bytes are sent, with the promise of its connection closing.
    const open = (text: string) =>
      new Promise<{ closed: Promise<void> }>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(text);
          resolve({ closed: new Promise((closed) => socket.once('close', () => closed())) });
        });
        socket.on('error', () => {});
        socket.resume(); // read what the server answers, to see its end
      });
    const halfHeaders = await open('GET /v1/actions HTTP/1.1\r\nHost: localhost\r\nAuthoriz');
    const halfBody = await open(
      'POST /v1/actions/execute HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"requ',
    );
    const started = performance.now();
    await app.close();
    await Promise.all([halfHeaders.closed, halfBody.closed]);
    // Before, close() waited for these clients to give up (minutes); now the drain (no requests) and the grace.
    assert.ok(
      performance.now() - started < CLOSE_GRACE_MS + 4000,
      `closed in ${performance.now() - started} ms`,
    );
  } finally {
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});
