import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { AGENT_HEADER } from '../server/agent-header.ts';
import { AgentClient, type RetryNotice } from './agent-client.ts';
import { DEFAULT_RETRY_POLICY } from './retry-policy.ts';

// A FAKE: a scripted HTTP server standing in for the agent and for a proxy in front of it (a real agent cannot be
// made to refuse, then answer, on cue; test/agent/client-retries.test.ts runs the real one). Each request takes the
// next scripted answer; one nobody scripted is a 500 the tests would see.
const answers: ((res: ServerResponse) => void)[] = [];
const seen: string[] = [];
const server = createServer((req, res) => {
  seen.push(`${req.method} ${req.url}`);
  req.resume();
  req.on('end', () => {
    const answer = answers.shift();
    if (!answer) {
      res.writeHead(500).end('{"code":"DVM_INTERNAL","message":"no answer scripted"}');
      return;
    }
    answer(res);
  });
});
let url = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

// An answer of the agent (with its header).
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res
      .writeHead(status, { 'content-type': 'application/json', [AGENT_HEADER]: 'v1', ...headers })
      .end(JSON.stringify(body));

// An answer of something else at the agent's address: a web server's page, a proxy's error.
const foreign = (status: number, text: string) => (res: ServerResponse) =>
  res.writeHead(status, { 'content-type': 'text/html' }).end(text);

// A client that records its notices and waits instead of sleeping.
function client(retries = 3) {
  const notices: RetryNotice[] = [];
  const waits: number[] = [];
  const agent = new AgentClient(url, 'dvm_x', {
    retry: { ...DEFAULT_RETRY_POLICY, retries },
    onRetry: (notice) => notices.push(notice),
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { agent, notices, waits };
}

test('a stopping agent is asked again after its Retry-After; the answer that follows is returned (FAKE: scripted answers)', async () => {
  seen.length = 0;
  answers.push(
    json(503, { code: 'DVM_AGENT_STOPPING', message: 'stopping' }, { 'retry-after': '1' }),
    json(502, { message: 'bad gateway' }),
    json(200, { ok: true }, { 'idempotent-replayed': 'true' }),
  );
  const { agent, notices, waits } = client();
  const answer = await agent.request('POST', '/v1/actions/execute', { request_id: 'r1' }, undefined, {
    retry: true,
  });
  assert.deepEqual(answer, { status: 200, body: { ok: true }, replayed: true });
  assert.deepEqual(
    notices.map((n) => [n.attempt, n.reason]),
    [
      [1, '503 DVM_AGENT_STOPPING'],
      [2, '502 from something in front of the agent'],
    ],
  );
  assert.ok(waits[0] >= 1000, `waited the Retry-After: ${waits[0]} ms`);
  assert.ok(waits[1] >= 250 && waits[1] <= 500, `then the backoff of a second retry: ${waits[1]} ms`);
  assert.equal(seen.length, 3);
});

test('a POST is sent once unless the caller says it is safe to repeat; final answers are never repeated (FAKE: scripted answers)', async () => {
  seen.length = 0;
  answers.push(json(503, { code: 'DVM_AGENT_STOPPING', message: 'stopping' }));
  const { agent, notices } = client();
  const once = await agent.request('POST', '/v1/confirmations/approve', {});
  assert.equal(once.status, 503);
  for (const [status, code] of [
    [401, 'DVM_UNAUTHENTICATED'],
    [503, 'DVM_CONNECTOR_UNAVAILABLE'],
  ] as const) {
    answers.push(json(status, { code, message: code }));
    const final = await agent.request('GET', '/v1/actions');
    assert.equal(final.status, status);
  }
  assert.deepEqual(notices, []);
  assert.equal(seen.length, 3);
});

test('retries stop at the policy: the last refusal is returned; a Retry-After past the maximum is not waited for (FAKE: scripted answers)', async () => {
  seen.length = 0;
  for (let i = 0; i < 3; i++) answers.push(json(429, { code: 'DVM_TOO_MANY_RUNNING', message: 'busy' }));
  const { agent, notices } = client(2);
  const last = await agent.request('GET', '/v1/executions');
  assert.equal(last.status, 429);
  assert.equal(notices.length, 2);
  assert.equal(seen.length, 3);

  answers.push(json(503, { code: 'DVM_AGENT_STOPPING', message: 'stopping' }, { 'retry-after': '3600' }));
  const patient = client();
  assert.equal((await patient.agent.request('GET', '/v1/actions')).status, 503);
  assert.deepEqual(patient.notices, [], 'an hour is reported, not waited for');
});

test('a connection closed before the answer is retried; an unreachable agent ends in DVM_CONNECTOR_UNAVAILABLE (FAKE: scripted answers)', async () => {
  seen.length = 0;
  answers.push((res) => res.socket?.destroy(), json(200, { ok: true }));
  const { agent, notices } = client();
  assert.deepEqual(await agent.request('GET', '/v1/actions'), { status: 200, body: { ok: true } });
  assert.match(notices[0].reason, /cannot reach the agent/);

  const nowhere = new AgentClient('http://127.0.0.1:9', undefined, {
    retry: { ...DEFAULT_RETRY_POLICY, retries: 1 },
    sleep: async () => {},
  });
  await assert.rejects(
    nowhere.request('GET', '/v1/actions'),
    (error) => isDvmError(error) && error.code === 'DVM_CONNECTOR_UNAVAILABLE',
  );
});

test('an answer without the agent header is DVM_CONNECTOR_UNAVAILABLE saying what answered, never its page (FAKE: scripted answers)', async () => {
  const { agent } = client(0);
  answers.push(foreign(200, '<!DOCTYPE HTML><html>Directory listing</html>'));
  await assert.rejects(agent.request('GET', '/v1/actions'), (e: DvmError) => {
    assert.equal(e.code, 'DVM_CONNECTOR_UNAVAILABLE');
    assert.match(e.message, /answered HTTP 200, but not as a dvm agent/);
    assert.doesNotMatch(e.message, /DOCTYPE|Directory/);
    return true;
  });
  answers.push(foreign(502, '<html>Bad Gateway</html>'));
  await assert.rejects(agent.request('GET', '/v1/actions'), /a proxy in front of it answered HTTP 502/);
  assert.throws(
    () => new AgentClient('http://ops:hunter2@127.0.0.1:1', undefined),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_USAGE');
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    },
  );
});

test('https:// to a server that answers plain HTTP says so, not OpenSSL’s record-header message (FAKE: scripted answers)', async () => {
  answers.push(json(200, { ok: true }));
  const plain = new AgentClient(url.replace('http:', 'https:'), 'dvm_x', {
    retry: { ...DEFAULT_RETRY_POLICY, retries: 0 },
    sleep: async () => {},
  });
  await assert.rejects(plain.request('GET', '/v1/actions'), (e: DvmError) => {
    assert.equal(e.code, 'DVM_CONNECTOR_UNAVAILABLE');
    assert.match(e.message, /does not answer TLS \(it may serve plain HTTP\)$/);
    assert.doesNotMatch(e.message, /openssl|SSL routines/i);
    assert.match(e.fix ?? '', /http:\/\/127\.0\.0\.1:\d+ in --server/);
    return true;
  });
  answers.length = 0;
});
