import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Ajv, type ValidateFunction } from 'ajv';
import { AgentClient } from '../../src/agent/client/agent-client.ts';
import { parseEventStream } from '../../src/agent/client/sse-client.ts';
import { ROUTES } from '../../src/agent/server/routes.ts';
import {
  api,
  createToken,
  type ServeProcess,
  startServe,
  useTwoPersonRule,
} from '../helpers/agent-server.ts';
import { dvmAsync, dvmOk, tempDir, tempHome } from '../helpers/dvm.ts';
import { TEST_DOCKER_HOST } from '../support/require-service.ts';

// A webhook receiver standing in for an alerting system: it counts what notify.alert delivers.
const received: { body: unknown }[] = [];
const hook = createServer((req: IncomingMessage, res) => {
  let data = '';
  req.on('data', (d) => (data += d));
  req.on('end', () => {
    const body = JSON.parse(data || 'null');
    // An alert that stays unanswered past the timeout of the action that sends it (the OpenAPI test's 504).
    if (body?.message === 'unanswered') return setTimeout(() => res.writeHead(200).end('late'), 3000).unref();
    received.push({ body });
    res.writeHead(200).end('ok');
  });
});

// Created at the top level: a tempHome() made inside before() would be removed as soon as before() ends.
const home = tempHome();
let serve: ServeProcess;
const tokens: Record<string, string> = {};

before(async () => {
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alert`;
  for (const role of ['viewer', 'operator', 'admin']) tokens[role] = createToken(home, role, role);
  tokens.second = createToken(home, 'second-admin', 'admin');
  tokens.revoked = createToken(home, 'revoked', 'admin');
  dvmOk(home, ['token', 'revoke', 'revoked']);
  tokens.expired = createToken(home, 'expired', 'admin', '1ms');
  // No kubeconfig, and the tests' Docker engine (running or not): the OpenAPI test's actions fail with their codes.
  serve = await startServe(home, {
    DVM_NOTIFY_ALERT_URL: hookUrl,
    KUBECONFIG: join(home, 'no-kubeconfig'),
    DOCKER_HOST: TEST_DOCKER_HOST,
  });
});

after(async () => {
  await serve?.stop();
  hook.close();
});

const execute = (token: string, body: unknown) =>
  api(serve.url, 'POST', '/v1/actions/execute', { token, body });

// Every method on every path of the API, plus a path that is no route: deny by default covers what Fastify
// answers on its own (automatic HEAD, 404s, OPTIONS) as much as the routes themselves.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const PATHS = [...new Set([...ROUTES.map((r) => r.url), '/v1/no-such-route'])];

test('every method on every path except GET health rejects a missing, invalid, expired or revoked token with 401', async () => {
  const credentials: Record<string, string | undefined> = {
    missing: undefined,
    invalid: 'dvm_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    expired: tokens.expired,
    revoked: tokens.revoked,
  };
  let checked = 0;
  for (const url of PATHS) {
    const path = `${url.replace(':id', 'x123')}?actor=admin&env=prod`;
    for (const method of METHODS) {
      const spec = ROUTES.find((r) => r.method === method && r.url === url);
      if (spec?.role === 'public') {
        const open = await api(serve.url, method, path);
        assert.equal(open.status, 200, `${method} ${url} needs no token`);
        continue;
      }
      for (const [reason, token] of Object.entries(credentials)) {
        const response = await api(serve.url, method, path, {
          token,
          body: method === 'POST' || method === 'PUT' || method === 'PATCH' ? {} : undefined,
        });
        assert.equal(response.status, 401, `${method} ${url} with a ${reason} token`);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
        if (method !== 'HEAD') {
          assert.equal(response.body.code, 'DVM_UNAUTHENTICATED');
          assert.equal((response.body.details as { reason: string }).reason, reason);
        }
        checked++;
      }
    }
  }
  assert.equal(checked, (PATHS.length * METHODS.length - 1) * 4);
});

test('a request with two Authorization headers is 401 even when the first one is valid (a proxy may have checked the other)', async () => {
  const { port } = new URL(serve.url);
  const raw = (headers: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.end(`GET /v1/actions HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`),
      );
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
  const twice = await raw(`Authorization: Bearer ${tokens.admin}\r\nAuthorization: Bearer garbage\r\n`);
  assert.match(twice, /^HTTP\/1\.1 401 /);
  assert.match(twice, /more than one Authorization header/);
  const once = await raw(`Authorization: Bearer ${tokens.admin}\r\n`);
  assert.match(once, /^HTTP\/1\.1 200 /);
});

test('HEAD and OPTIONS are no routes: with a valid token they are 404, never a GET answer', async () => {
  for (const url of PATHS) {
    for (const method of ['HEAD', 'OPTIONS']) {
      const response = await api(serve.url, method, url.replace(':id', 'x123'), { token: tokens.admin });
      assert.equal(response.status, 404, `${method} ${url}`);
      if (method === 'OPTIONS') assert.equal(response.body.code, 'DVM_ROUTE_NOT_FOUND');
    }
  }
});

test('health reports every connector without a token', async () => {
  const health = await api(serve.url, 'GET', '/v1/health');
  assert.equal(health.status, 200);
  const connectors = health.body.connectors as Record<string, { status: string; detail: string }>;
  assert.deepEqual(Object.keys(connectors).sort(), ['docker', 'git', 'jvm', 'kubernetes', 'store']);
  assert.equal(connectors.store.status, 'ok');
  assert.equal(connectors.git.status, 'ok');
  for (const c of Object.values(connectors)) assert.ok(c.detail.length > 0);
});

test('a read action runs, is audited, and a repeated request_id returns the first answer', async () => {
  const first = await execute(tokens.viewer, {
    request_id: 'info-1',
    action: 'system.info',
    target: { env: 'dev' },
  });
  assert.equal(first.status, 200, first.text);
  const result = first.body.result as { summary: { pid: number }; artifact: { bytes: number } };
  assert.equal(result.summary.pid, serve.child.pid);
  assert.ok(result.artifact.bytes > 0);
  assert.equal(first.body.risk, 'read');

  const again = await execute(tokens.viewer, {
    request_id: 'info-1',
    action: 'system.info',
    target: { env: 'dev' },
  });
  assert.deepEqual(again.body, first.body, 'the same answer, the same execution');
  assert.equal(first.headers.get('idempotent-replayed'), null, 'the first answer is no replay');
  assert.equal(again.headers.get('idempotent-replayed'), 'true', 'the repeat says it is one');

  const conflict = await execute(tokens.viewer, {
    request_id: 'info-1',
    action: 'system.info',
    target: { env: 'stage' },
  });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.code, 'DVM_IDEMPOTENCY_CONFLICT');

  const record = await api(serve.url, 'GET', `/v1/executions/${first.body.execution_id}`, {
    token: tokens.viewer,
  });
  assert.equal(record.body.status, 'succeeded');
  const hidden = await api(serve.url, 'GET', `/v1/executions/${first.body.execution_id}`, {
    token: tokens.operator,
  });
  assert.equal(hidden.status, 404, "another principal's execution looks missing");

  const denied = await api(serve.url, 'GET', '/v1/audit', { token: tokens.viewer });
  assert.equal(denied.status, 403);
  const audit = await api(serve.url, 'GET', '/v1/audit?action=system.info&actor=viewer', {
    token: tokens.admin,
  });
  assert.equal(audit.status, 200, audit.text);
  const items = audit.body.items as { decision: string; reasons?: string[]; error?: { code: string } }[];
  // The run, the replay (allowed, answered from the first), the conflict (denied by idempotency).
  assert.deepEqual(
    items.map((e) => e.decision),
    ['allowed', 'executed', 'allowed', 'denied'],
  );
  assert.match(items[2].reasons?.at(-1) ?? '', /repeat of this request_id/);
  assert.equal(items[3].error?.code, 'DVM_IDEMPOTENCY_CONFLICT');
});

test('every API route refuses a query parameter it does not take or one given twice (400, naming it); health and metrics ignore them', async () => {
  let checked = 0;
  for (const spec of ROUTES) {
    const path = spec.url.replace(':id', 'x123');
    const known = Object.keys(spec.query ?? {});
    const answer = await api(serve.url, spec.method, `${path}?bogus=1`, {
      token: tokens.admin,
      body: spec.method === 'POST' ? {} : undefined,
    });
    if (spec.queryCheck === 'none') {
      assert.notEqual(answer.status, 400, `${spec.method} ${spec.url} ignores unknown parameters`);
      continue;
    }
    assert.equal(answer.status, 400, `${spec.method} ${spec.url}: ${answer.text}`);
    assert.equal(answer.body.code, 'DVM_QUERY_INVALID', spec.url);
    const { causes } = answer.body.details as { causes: { path: string }[] };
    assert.deepEqual(
      causes.map((c) => c.path),
      ['bogus'],
      spec.url,
    );
    if (known.length > 0) assert.match(answer.text, new RegExp(known[0]), `${spec.url} names what it takes`);
    checked++;
  }
  assert.ok(checked >= 10, `${checked} routes checked`);
  // The event stream's own parameters: a misspelt last_event_id is refused (it would replay from the start), a
  // repeated follow too.
  const run = await execute(tokens.viewer, {
    request_id: 'query-events',
    action: 'system.info',
    target: { env: 'dev' },
  });
  const id = String(run.body.execution_id);
  const typo = await api(serve.url, 'GET', `/v1/executions/${id}/events?lastEventId=3`, {
    token: tokens.viewer,
  });
  assert.equal(typo.status, 400, typo.text);
  assert.match(typo.text, /last_event_id/, 'it suggests the right spelling');
  const twice = await api(serve.url, 'GET', `/v1/executions/${id}/events?follow=false&follow=false`, {
    token: tokens.viewer,
  });
  assert.equal(twice.status, 400, twice.text);
  const right = await api(serve.url, 'GET', `/v1/executions/${id}/events?follow=false&last_event_id=1`, {
    token: tokens.viewer,
  });
  assert.equal(right.status, 200, right.text);
});

test('GET /v1/audit reads its query strictly: unknown, repeated or loosely written parameters are 400', async () => {
  const get = (query: string) => api(serve.url, 'GET', `/v1/audit?${query}`, { token: tokens.admin });
  for (const [query, path] of [
    ['actor=viewer&actor=admin', 'actor'],
    ['decision[]=allowed', 'decision[]'],
    ['actr=viewer', 'actr'],
    ['since=10', 'since'],
    ['since=300000000d', 'since'],
    ['until=999999999999999d', 'until'],
    ['until=2026-01-01', 'until'],
    ['limit=0x10', 'limit'],
    ['after=1e2', 'after'],
    ['decision=bogus', 'decision'],
  ]) {
    const answer = await get(query);
    assert.equal(answer.status, 400, `${query}: ${answer.text}`);
    assert.equal(answer.body.code, 'DVM_QUERY_INVALID', query);
    const { causes } = answer.body.details as { causes: { path: string; fix?: string }[] };
    assert.deepEqual(
      causes.map((c) => c.path),
      [path],
      query,
    );
    assert.ok(
      causes.every((c) => c.fix),
      `${query}: every problem says how to fix it`,
    );
  }
  // Every problem at once: an unknown or repeated parameter does not hide the bad values beside it.
  for (const [query, paths] of [
    ['limit=0&since=10&actr=x', ['actr', 'since', 'limit']],
    ['limit=0&limit=1&since=10', ['limit', 'since']],
  ] as const) {
    const answer = await get(query);
    assert.equal(answer.status, 400, query);
    const { causes } = answer.body.details as { causes: { path: string }[] };
    assert.deepEqual(
      causes.map((c) => c.path),
      paths,
      query,
    );
  }
  const unknown = await get('decision[]=allowed');
  assert.match(
    JSON.stringify(unknown.body),
    /actor, owner, action, route, decision, env, target, request_id, requestId, since, until/,
  );

  await execute(tokens.viewer, { request_id: 'audit-q', action: 'system.info', target: { env: 'stage' } });
  const byRequest = await get('requestId=audit-q&target=env%3Dstage&since=1h&limit=10');
  assert.equal(byRequest.status, 200, byRequest.text);
  assert.deepEqual(
    (byRequest.body.items as { decision: string; requestId: string }[]).map((e) => [e.requestId, e.decision]),
    [
      ['audit-q', 'allowed'],
      ['audit-q', 'executed'],
    ],
  );
  // request_id, as the execute request spells it, filters the same.
  const snake = await get('request_id=audit-q&target=env%3Dstage&since=1h&limit=10');
  assert.deepEqual(snake.body.items, byRequest.body.items);
  const later = await get(
    `requestId=audit-q&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
  );
  assert.deepEqual(later.body.items, []);
});

test('an invalid request gets 422 with every violation, a malformed one 400, an unknown action 404', async () => {
  const invalid = await execute(tokens.admin, {
    request_id: 'bad one',
    action: 'system.info',
    target: {},
    extra: 1,
  });
  assert.equal(invalid.status, 422);
  assert.equal(invalid.body.code, 'DVM_REQUEST_INVALID');
  const paths = ((invalid.body.details as { causes: { path: string }[] }).causes ?? [])
    .map((c) => c.path)
    .sort();
  assert.deepEqual(paths, ['extra', 'request_id', 'target.env']);

  const params = await execute(tokens.admin, {
    request_id: 'p1',
    action: 'notify.alert',
    params: { message: 42, severity: '' },
    target: { env: 'dev' },
  });
  assert.equal(params.status, 422);
  assert.equal(params.body.code, 'DVM_ACTION_INPUT_INVALID');
  assert.equal((params.body.details as { causes: unknown[] }).causes.length, 2);

  const malformed = await execute(tokens.admin, '{"request_id": ');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.code, 'DVM_REQUEST_MALFORMED');
  assert.match(String(malformed.body.message), /not valid JSON/);
  const poisoned = await execute(
    tokens.admin,
    '{"request_id": "pp", "action": "system.info", "target": {"env": "dev"}, "params": {"__proto__": {"x": 1}}}',
  );
  assert.equal(poisoned.status, 400, poisoned.text);
  assert.equal(poisoned.body.code, 'DVM_REQUEST_FORBIDDEN_KEY');
  assert.match(String(poisoned.body.message), /params\.__proto__/);

  const unknown = await execute(tokens.admin, {
    request_id: 'u1',
    action: 'docker.nuke',
    target: { env: 'dev' },
  });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 'DVM_ACTION_UNKNOWN');
});

test('a body nested deeper than 32 levels is DVM_REQUEST_TOO_DEEP (400), not a crash; 32 levels run', async () => {
  const body = (levels: number) =>
    `{"request_id":"deep-${levels}","action":"notify.alert","target":{"env":"dev"},"dry_run":true,` +
    `"params":{"message":"deep","details":{"a":${'['.repeat(levels)}1${']'.repeat(levels)}}}}`;
  // The body, params, details and 29 arrays: 32.
  const fits = await execute(tokens.operator, body(29));
  assert.equal(fits.status, 200, fits.text);
  for (const levels of [30, 2000, 200_000]) {
    const deep = await execute(tokens.operator, body(levels));
    assert.equal(deep.status, 400, `${levels}: ${deep.text.slice(0, 300)}`);
    assert.equal(deep.body.code, 'DVM_REQUEST_TOO_DEEP');
    assert.equal((deep.body.details as { max_depth: number }).max_depth, 32);
  }
});

test('policy: a viewer may not run a write action (403 with the policy ids); an operator may', async () => {
  const body = {
    request_id: 'w1',
    action: 'notify.alert',
    params: { message: 'dev alert' },
    target: { env: 'dev' },
  };
  const denied = await execute(tokens.viewer, body);
  assert.equal(denied.status, 403, denied.text);
  assert.equal(denied.body.code, 'DVM_FORBIDDEN');
  assert.ok(((denied.body.details as { policy_ids: string[] }).policy_ids ?? []).length > 0);
  const before = received.length;
  const allowed = await execute(tokens.operator, body);
  assert.equal(allowed.status, 200, allowed.text);
  assert.equal(received.length, before + 1);
});

test('confirmation: a write in prod gets a bound, single-use challenge; the confirmed request runs once', async () => {
  const body = {
    request_id: 'prod-1',
    action: 'notify.alert',
    params: { message: 'prod alert' },
    target: { env: 'prod' },
  };
  const before = received.length;
  const challenge = await execute(tokens.operator, body);
  assert.equal(challenge.status, 428, challenge.text);
  assert.equal(challenge.body.code, 'DVM_CONFIRMATION_REQUIRED');
  const token = (challenge.body.details as { challenge: { confirmation_token: string } }).challenge
    .confirmation_token;

  const tampered = await execute(tokens.operator, {
    ...body,
    params: { message: 'other' },
    confirmation_token: token,
  });
  assert.equal(tampered.status, 403);
  assert.equal(tampered.body.code, 'DVM_CONFIRMATION_INVALID');
  const otherPrincipal = await execute(tokens.admin, { ...body, confirmation_token: token });
  assert.equal(otherPrincipal.body.code, 'DVM_CONFIRMATION_INVALID');
  // How long it may run is part of what was confirmed.
  const shorter = await execute(tokens.operator, { ...body, timeout: '1ms', confirmation_token: token });
  assert.equal(shorter.body.code, 'DVM_CONFIRMATION_INVALID');

  const confirmed = await execute(tokens.operator, { ...body, confirmation_token: token });
  assert.equal(confirmed.status, 200, confirmed.text);
  const retry = await execute(tokens.operator, { ...body, confirmation_token: token });
  assert.deepEqual(retry.body, confirmed.body, 'a retry of the confirmed request id gets its answer');
  const replay = await execute(tokens.operator, { ...body, request_id: 'prod-2', confirmation_token: token });
  assert.equal(replay.body.code, 'DVM_CONFIRMATION_INVALID', 'single use');
  assert.equal(received.length, before + 1, 'delivered exactly once');
  assert.equal((received[received.length - 1].body as { message: string }).message, 'prod alert');
});

test('100 concurrent requests with one request_id execute exactly once', async () => {
  const before = received.length;
  const body = {
    request_id: 'burst-1',
    action: 'notify.alert',
    params: { message: 'burst' },
    target: { env: 'dev' },
  };
  const answers = await Promise.all(Array.from({ length: 100 }, () => execute(tokens.operator, body)));
  assert.ok(
    answers.every((a) => a.status === 200),
    answers.map((a) => a.status).join(','),
  );
  assert.equal(new Set(answers.map((a) => a.body.execution_id)).size, 1);
  await sleep(100);
  assert.equal(received.length, before + 1);
});

test('a read is recorded in one commit after it ran; concurrent repeats still run it once', async () => {
  const body = { request_id: 'read-burst', action: 'system.info', target: { env: 'dev' } };
  const answers = await Promise.all([
    ...Array.from({ length: 50 }, () => execute(tokens.viewer, body)),
    execute(tokens.viewer, { ...body, target: { env: 'stage' } }),
  ]);
  const conflict = answers.pop();
  assert.equal(conflict?.status, 409, conflict?.text);
  assert.ok(
    answers.every((a) => a.status === 200),
    answers.map((a) => a.status).join(','),
  );
  assert.equal(new Set(answers.map((a) => a.body.execution_id)).size, 1);
  const audit = await api(serve.url, 'GET', '/v1/audit?action=system.info&actor=viewer&limit=1000', {
    token: tokens.admin,
  });
  const mine = (audit.body.items as { decision: string; requestId: string; executionId?: string }[]).filter(
    (e) => e.requestId === 'read-burst',
  );
  assert.equal(mine.filter((e) => e.decision === 'executed').length, 1, 'executed once');
  const ran = mine.findIndex((e) => e.executionId === answers[0].body.execution_id);
  assert.deepEqual(
    mine.slice(ran, ran + 2).map((e) => e.decision),
    ['allowed', 'executed'],
    'its decision and its outcome, in order',
  );
  const record = await api(serve.url, 'GET', `/v1/executions/${answers[0].body.execution_id}`, {
    token: tokens.viewer,
  });
  assert.equal(record.body.status, 'succeeded');
});

test('events of an execution stream as SSE and resume after Last-Event-ID', async () => {
  const run = await execute(tokens.viewer, {
    request_id: 'sse-1',
    action: 'system.info',
    target: { env: 'dev' },
  });
  const id = String(run.body.execution_id);
  const read = async (lastEventId?: string) => {
    const response = await fetch(new URL(`/v1/executions/${id}/events`, serve.url), {
      headers: {
        authorization: `Bearer ${tokens.viewer}`,
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
    });
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = [];
    for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>))
      events.push(event);
    return events;
  };
  const all = await read();
  assert.deepEqual(
    all.map((e) => e.event),
    ['started', 'completed'],
  );
  assert.deepEqual(
    all.map((e) => e.id),
    ['1', '2'],
  );
  const resumed = await read('1');
  assert.deepEqual(
    resumed.map((e) => e.event),
    ['completed'],
  );
  // Past the end of an ended execution: 204, which stops an EventSource from reconnecting (an empty 200 would not).
  for (const lastEventId of ['2', '7']) {
    const response = await fetch(new URL(`/v1/executions/${id}/events`, serve.url), {
      headers: { authorization: `Bearer ${tokens.viewer}`, 'last-event-id': lastEventId },
    });
    assert.equal(response.status, 204, lastEventId);
    assert.equal(await response.text(), '');
  }
  const client = new AgentClient(serve.url, tokens.viewer);
  const after = [];
  for await (const event of client.events(id, 2)) after.push(event);
  assert.deepEqual(after, [], 'the client reads a 204 as no more events');
  for (const id of ['1e3', 'abc', '99999999999999999999']) {
    const bad = await api(serve.url, 'GET', `/v1/executions/${run.body.execution_id}/events`, {
      token: tokens.viewer,
      headers: { 'last-event-id': id },
    });
    assert.equal(bad.status, 400, `${id}: ${bad.text}`);
    assert.equal(bad.body.code, 'DVM_EVENT_ID_INVALID');
  }
});

test('the OpenAPI document describes what execute really answers: results, dry runs, 403 and 428 details, and the request forms it takes', async () => {
  const doc = (await api(serve.url, 'GET', '/v1/openapi.json', { token: tokens.viewer })).body as {
    servers: { url: string }[];
    paths: Record<
      string,
      Record<
        string,
        {
          requestBody: { content: Record<string, { schema: object }> };
          responses: Record<string, { content: Record<string, { schema: object }> }>;
        }
      >
    >;
    components: { schemas: { Error: { properties: { code: { enum: string[] } } } } };
  };
  // Relative: it names the server that served it, whatever its address.
  assert.deepEqual(
    doc.servers.map((s) => s.url),
    ['/'],
  );
  const codes = doc.components.schemas.Error.properties.code.enum;
  assert.ok(codes.includes('DVM_CONFIRMATION_REQUIRED') && codes.includes('DVM_INTERNAL'));
  assert.ok(!codes.includes('DVM_YAML_SYNTAX'), 'only codes the API answers, not the CLI taxonomy');
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(doc, 'doc');
  const schemaOf = (status: string) => {
    ajv.removeSchema(`s${status}`);
    ajv.addSchema(
      { $ref: `doc#/paths/~1v1~1actions~1execute/post/responses/${status}/content/application~1json/schema` },
      `s${status}`,
    );
    return ajv.getSchema(`s${status}`) as ValidateFunction;
  };
  const answers: [string, Awaited<ReturnType<typeof execute>>][] = [
    [
      '200',
      await execute(tokens.viewer, { request_id: 'doc-200', action: 'system.info', target: { env: 'dev' } }),
    ],
    [
      '200',
      await execute(tokens.operator, {
        request_id: 'doc-dry',
        action: 'notify.alert',
        params: { message: 'm' },
        target: { env: 'prod' },
        dry_run: true,
      }),
    ],
    [
      '403',
      await execute(tokens.viewer, {
        request_id: 'doc-403',
        action: 'notify.alert',
        params: { message: 'm' },
        target: { env: 'dev' },
      }),
    ],
    [
      '428',
      await execute(tokens.operator, {
        request_id: 'doc-428',
        action: 'notify.alert',
        params: { message: 'm' },
        target: { env: 'prod' },
      }),
    ],
  ];
  for (const [status, answer] of answers) {
    assert.equal(String(answer.status), status, answer.text);
    const validate = schemaOf(status);
    assert.ok(validate(answer.body), `${status}: ${JSON.stringify(validate.errors)} for ${answer.text}`);
  }
  // An answer of another shape would fail: the schemas are not just {type: object}.
  assert.ok(!schemaOf('428')({ code: 'DVM_CONFIRMATION_REQUIRED', reason: 'r', message: 'm', details: {} }));
  assert.ok(!schemaOf('200')({ status: 'succeeded' }));
  // The request schema and the server agree on version and timeout.
  ajv.addSchema(
    { $ref: 'doc#/paths/~1v1~1actions~1execute/post/requestBody/content/application~1json/schema' },
    'request',
  );
  const request = ajv.getSchema('request') as ValidateFunction;
  for (const [extra, valid] of [
    [{ version: '' }, false],
    [{ version: '1.0.0' }, true],
    [{ timeout: '0s' }, false],
    [{ timeout: '0s500ms' }, true],
    [{ timeout: '30s' }, true],
  ] as const) {
    const body = {
      request_id: `doc-form-${JSON.stringify(extra).replace(/\W/g, '')}`,
      action: 'system.info',
      target: { env: 'dev' },
      ...extra,
    };
    const answer = await execute(tokens.viewer, body);
    assert.equal(request(body), valid, `the document on ${JSON.stringify(extra)}`);
    assert.equal(answer.status === 200, valid, `the server on ${JSON.stringify(extra)}: ${answer.text}`);
  }
});

test('metrics and the OpenAPI document need a token and describe the API', async () => {
  const metrics = await api(serve.url, 'GET', '/metrics', { token: tokens.viewer });
  assert.equal(metrics.status, 200);
  assert.match(
    metrics.text,
    /^dvm_http_requests_total\{method="POST",route="\/v1\/actions\/execute",status="200"\} \d+/m,
  );
  assert.match(metrics.text, /dvm_action_requests_total\{action="system.info",outcome="200"\}/);
  // Every answered execute waited for a group commit: they are measured.
  assert.ok(
    Number(/^dvm_store_commit_duration_seconds_count (\d+)$/m.exec(metrics.text)?.[1]) > 0,
    metrics.text,
  );
  assert.ok(Number(/^dvm_store_writes_total (\d+)$/m.exec(metrics.text)?.[1]) > 0);
  assert.match(metrics.text, /^dvm_executions_running 0$/m);
  const doc = await api(serve.url, 'GET', '/v1/openapi.json', { token: tokens.viewer });
  assert.equal(doc.body.openapi, '3.1.0');
  const paths = Object.keys(doc.body.paths as object).sort();
  assert.deepEqual(paths, [...new Set(ROUTES.map((r) => r.url.replace(/:(\w+)/g, '{$1}')))].sort());
  // The headers a client retries by: Retry-After on what may be sent again, Idempotent-Replayed on execute's answers.
  const execute = (
    doc.body.paths as Record<
      string,
      Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>
    >
  )['/v1/actions/execute'].post.responses;
  assert.ok(execute['200'].headers?.['Idempotent-Replayed'], 'a replayed answer says so');
  assert.ok(execute['503'].headers?.['Retry-After'], 'DVM_AGENT_STOPPING says when to come back');
  assert.ok(execute['429'].headers?.['Retry-After'], 'DVM_TOO_MANY_RUNNING too');
  assert.equal(execute['401'].headers, undefined, 'a missing token is not worth a retry');
});

test('dvm action run talks to the remote agent with DVM_SERVER and DVM_TOKEN, confirming with --yes', async () => {
  const env = { DVM_SERVER: serve.url, DVM_TOKEN: tokens.operator };
  const list = await dvmAsync(home, ['action', 'list'], { env });
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^system\.info\s+1\.0\.0\s+read/m);

  const info = await dvmAsync(home, ['action', 'run', 'system.info', '-o', 'json'], { env });
  assert.equal(info.status, 0, info.stderr);
  assert.equal(JSON.parse(info.stdout).result.summary.pid, serve.child.pid);

  const before = received.length;
  const refused = await dvmAsync(
    home,
    ['action', 'run', 'notify.alert', '--param', 'message=from cli', '--env', 'prod'],
    { env },
  );
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /DVM_CONFIRMATION_REQUIRED/);
  const yes = await dvmAsync(
    home,
    ['action', 'run', 'notify.alert', '--param', 'message=from cli', '--env', 'prod', '--yes'],
    { env },
  );
  assert.equal(yes.status, 0, yes.stderr);
  assert.equal(received.length, before + 1);

  const viewer = await dvmAsync(
    home,
    ['action', 'run', 'notify.alert', '--param', 'message=x', '--env', 'dev'],
    { env: { ...env, DVM_TOKEN: tokens.viewer } },
  );
  assert.equal(viewer.status, 1);
  assert.match(viewer.stderr, /DVM_FORBIDDEN/);

  // A change sent to a remote agent names its environment (it may serve prod); nothing is sent without one.
  const unnamed = await dvmAsync(home, ['action', 'run', 'notify.alert', '--param', 'message=x', '--yes'], {
    env,
  });
  assert.equal(unnamed.status, 2, unnamed.stderr);
  assert.match(
    unnamed.stderr,
    /DVM_USAGE: notify\.alert is a write action: name the environment it acts on with --env/,
  );
  const named = await dvmAsync(
    home,
    ['action', 'run', 'notify.alert', '--param', 'message=named', '--target', 'env=dev'],
    { env },
  );
  assert.equal(named.status, 0, named.stderr);
  assert.equal(received.length, before + 2, 'only the named run was delivered');
});

test('the CLI words what the agent refuses for dvm users: a revoked token says to set DVM_TOKEN, a bad DVM_SERVER is named as such', async () => {
  const revoked = await dvmAsync(home, ['action', 'list'], {
    env: { DVM_SERVER: serve.url, DVM_TOKEN: tokens.revoked },
  });
  assert.equal(revoked.status, 1, revoked.stderr);
  assert.match(revoked.stderr, /DVM_UNAUTHENTICATED: token "revoked" was revoked/);
  assert.match(revoked.stderr, /fix: Set DVM_TOKEN \(or DVM_TOKEN_FILE\) to a valid token/);
  assert.doesNotMatch(revoked.stderr, /Authorization: Bearer/);
  const address = serve.url.replace(/^https?:\/\//, '');
  const bare = await dvmAsync(home, ['action', 'list'], {
    env: { DVM_SERVER: address, DVM_TOKEN: tokens.viewer },
  });
  assert.match(bare.stderr, new RegExp(`DVM_USAGE: DVM_SERVER "${address}" is not an http\\(s\\) URL`));
  assert.match(bare.stderr, /fix: Set DVM_SERVER to a URL like http:\/\/127\.0\.0\.1:8700/);
  const flag = await dvmAsync(home, ['action', 'list', '--server', address], {
    env: { DVM_TOKEN: tokens.viewer },
  });
  assert.match(flag.stderr, /DVM_USAGE: --server "\S+" is not an http\(s\) URL/);
});

test('DVM_TOKEN_FILE names a file that holds the token (a mounted secret); with DVM_TOKEN too, or unreadable, it is a usage error', async () => {
  const dir = tempDir();
  const file = join(dir, 'token');
  writeFileSync(file, `${tokens.admin}\n`, { mode: 0o600 });
  // The audit is for admins only: read, it proves the file's admin token was sent.
  const fromFile = await dvmAsync(home, ['audit', '--limit', '1', '-o', 'json'], {
    env: { DVM_SERVER: serve.url, DVM_TOKEN_FILE: file },
  });
  assert.equal(fromFile.status, 0, fromFile.stderr);
  assert.ok(Array.isArray(JSON.parse(fromFile.stdout).items));
  // The same with a viewer's token in the file is refused: the file is what was read.
  writeFileSync(file, `${tokens.viewer}\n`);
  const asViewer = await dvmAsync(home, ['audit', '--limit', '1'], {
    env: { DVM_SERVER: serve.url, DVM_TOKEN_FILE: file },
  });
  assert.equal(asViewer.status, 1);
  assert.match(asViewer.stderr, /DVM_FORBIDDEN/);
  for (const [env, message] of [
    [
      { DVM_TOKEN_FILE: file, DVM_TOKEN: tokens.viewer },
      /DVM_USAGE: DVM_TOKEN and DVM_TOKEN_FILE are both set/,
    ],
    [{ DVM_TOKEN_FILE: join(dir, 'missing') }, /DVM_USAGE: DVM_TOKEN_FILE \S+missing cannot be read: ENOENT/],
    [
      { DVM_TOKEN_FILE: '/dev/zero' },
      /DVM_USAGE: DVM_TOKEN_FILE \/dev\/zero holds no token on its first line/,
    ],
    [{ DVM_TOKEN: `${tokens.admin}\r` }, /DVM_USAGE: DVM_TOKEN is not a token: it holds spaces or control/],
    // No token at all: said before any request (each would be 401, with advice for HTTP clients).
    [{}, /DVM_USAGE: a remote agent \(DVM_SERVER\) needs a token, and none is set\n.*fix: Set DVM_TOKEN/],
  ] as const) {
    const run = await dvmAsync(home, ['action', 'list'], { env: { DVM_SERVER: serve.url, ...env } });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, message);
  }
});

test('without a server, dvm action run runs in-process as the local admin through the same path', async () => {
  const local = await dvmAsync(home, ['action', 'run', 'system.info', '-o', 'json']);
  assert.equal(local.status, 0, local.stderr);
  assert.notEqual(JSON.parse(local.stdout).result.summary.pid, serve.child.pid);
  const audit = await api(serve.url, 'GET', '/v1/audit?actor=local', { token: tokens.admin });
  assert.deepEqual(
    (audit.body.items as { decision: string }[]).map((e) => e.decision),
    ['allowed', 'executed'],
    'the in-process run is in the same audit log',
  );
});

test('a dry run decides and validates without running, and needs no confirmation', async () => {
  const before = received.length;
  const dry = await execute(tokens.operator, {
    request_id: 'dry-1',
    action: 'notify.alert',
    params: { message: 'dry' },
    target: { env: 'prod' },
    dry_run: true,
  });
  assert.equal(dry.status, 200, dry.text);
  assert.deepEqual([dry.body.dry_run, dry.body.decision, dry.body.risk], [true, 'allow', 'write']);
  // It says what the real run would meet: in prod, a write needs its confirmation; in dev it runs at once.
  assert.deepEqual([dry.body.run_decision, dry.body.run_approval], ['confirm', 'self']);
  const devDry = await execute(tokens.operator, {
    request_id: 'dry-dev',
    action: 'notify.alert',
    params: { message: 'dry' },
    target: { env: 'dev' },
    dry_run: true,
  });
  assert.deepEqual([devDry.body.run_decision, devDry.body.run_approval], ['allow', undefined]);
  const viewer = await execute(tokens.viewer, {
    request_id: 'dry-2',
    action: 'notify.alert',
    params: { message: 'dry' },
    target: { env: 'dev' },
    dry_run: true,
  });
  assert.equal(viewer.status, 403, 'a dry run is still decided by policy');
  assert.equal(received.length, before, 'nothing was delivered');
});

// Runs `check` with the shipped two-person rule for prod among the served home's policies, removed afterwards.
async function withTwoPersonRule(check: () => Promise<void>): Promise<void> {
  const file = useTwoPersonRule(home);
  try {
    await check();
  } finally {
    rmSync(file);
  }
}

// The 428 of `body` once it asks for a second principal (dvm serve picks a new policy file up within a second):
// the first try has body's request_id, the next ones `${waitPrefix}-N`; with the request_id it answered. The
// requester is the operator token unless `requester` is given.
async function secondPrincipalChallenge(
  body: { request_id: string } & Record<string, unknown>,
  waitPrefix: string,
  requester = tokens.operator,
): Promise<{ challenge: { confirmation_token: string; approval: string }; requestId: string }> {
  let requestId = body.request_id;
  let answer = await execute(requester, body);
  const challengeOf = () =>
    (answer.body.details as { challenge?: { confirmation_token: string; approval: string } } | undefined)
      ?.challenge;
  for (let i = 0; i < 50 && challengeOf()?.approval !== 'other-principal'; i++) {
    await sleep(100);
    requestId = `${waitPrefix}-${i}`;
    answer = await execute(requester, { ...body, request_id: requestId });
  }
  const challenge = challengeOf();
  assert.equal(challenge?.approval, 'other-principal', answer.text);
  return { challenge: challenge as { confirmation_token: string; approval: string }, requestId };
}

test('the two-person rule: a second principal approves; the requester cannot approve itself', async () => {
  await withTwoPersonRule(async () => {
    const body = {
      request_id: 'two-1',
      action: 'notify.alert',
      params: { message: 'two person, db password=hunter2' },
      target: { env: 'prod' },
    };
    const { challenge: token, requestId: challengedId } = await secondPrincipalChallenge(body, 'two-wait');
    // No permit lets a viewer run a write: 403 at once, not a challenge a second principal could approve.
    const viewer = await execute(tokens.viewer, { ...body, request_id: 'two-viewer' });
    assert.equal(viewer.status, 403, viewer.text);
    assert.equal(viewer.body.code, 'DVM_FORBIDDEN');
    // The approver sees what it would approve first: the request, redacted, and who asked for it.
    const shown = {
      action: 'notify.alert',
      version: '1.0.0',
      params: { message: 'two person, db password=[REDACTED]' },
      target: { env: 'prod' },
      request_id: challengedId,
      requested_by: 'operator',
      requester_owner: 'operator',
      approval: 'other-principal',
    };
    const lookup = await api(serve.url, 'POST', '/v1/confirmations/lookup', {
      token: tokens.second,
      body: { confirmation_token: token.confirmation_token },
    });
    assert.equal(lookup.status, 200, lookup.text);
    const { expires_at, ...rest } = lookup.body;
    assert.deepEqual(rest, shown);
    assert.ok(Date.parse(String(expires_at)) > Date.now());
    const viewerLookup = await api(serve.url, 'POST', '/v1/confirmations/lookup', {
      token: tokens.viewer,
      body: { confirmation_token: token.confirmation_token },
    });
    assert.equal(viewerLookup.status, 403, 'only those who may approve may look');
    const request = { ...body, request_id: 'two-final' };
    const self = await api(serve.url, 'POST', '/v1/confirmations/approve', {
      token: tokens.operator,
      body: { confirmation_token: token.confirmation_token },
    });
    assert.equal(self.status, 403);
    assert.equal(self.body.code, 'DVM_CONFIRMATION_INVALID');
    const unknown = await api(serve.url, 'POST', '/v1/confirmations/approve', {
      token: tokens.second,
      body: { confirmation_token: `dvmc_${'x'.repeat(43)}` },
    });
    assert.equal(unknown.status, 403);
    const before = received.length;
    const early = await execute(tokens.operator, {
      ...request,
      params: body.params,
      confirmation_token: token.confirmation_token,
    });
    assert.equal(early.status, 428, 'not approved yet');
    // This 428 has the shape the OpenAPI document gives every 428 of execute.
    const challengeOf = (early.body.details as { challenge: Record<string, unknown> }).challenge;
    assert.deepEqual(Object.keys(challengeOf).sort(), [
      'approval',
      'binding',
      'confirmation_token',
      'expires_at',
    ]);
    assert.equal(challengeOf.expires_at, lookup.body.expires_at);
    const approved = await api(serve.url, 'POST', '/v1/confirmations/approve', {
      token: tokens.second,
      body: { confirmation_token: token.confirmation_token },
    });
    assert.equal(approved.status, 200, approved.text);
    assert.deepEqual(approved.body, { approved: true, ...shown, expires_at, approved_by: 'second-admin' });
    const again = await api(serve.url, 'POST', '/v1/confirmations/approve', {
      token: tokens.second,
      body: { confirmation_token: token.confirmation_token },
    });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.repeated, true, 'a retried approval says it changed nothing');
    const done = await execute(tokens.operator, {
      ...request,
      request_id: 'two-after',
      confirmation_token: token.confirmation_token,
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(received.length, before + 1);

    // Every approval attempt is in the audit, with what it was for; never the confirmation token itself.
    const audit = await api(serve.url, 'GET', '/v1/audit?limit=1000', { token: tokens.admin });
    assert.ok(!audit.text.includes(token.confirmation_token.slice(5)));
    const attempts = (
      audit.body.items as {
        actor: string;
        decision: string;
        action?: string;
        env?: string;
        requestId?: string;
        reasons?: string[];
        error?: { code: string };
        operation?: string;
      }[]
    )
      .filter((e) => e.operation === 'approve')
      .map((e) => [
        e.actor,
        e.decision,
        e.action ?? null,
        e.env ?? null,
        e.requestId ?? null,
        e.reasons?.[0],
      ]);
    assert.deepEqual(attempts, [
      [
        'operator',
        'denied',
        'notify.alert',
        'prod',
        challengedId,
        'refused to approve the confirmation requested by operator: self-approval',
      ],
      ['second-admin', 'denied', null, null, null, 'refused to approve the confirmation: unknown'],
      [
        'second-admin',
        'allowed',
        'notify.alert',
        'prod',
        challengedId,
        'approved the confirmation requested by operator',
      ],
      [
        'second-admin',
        'allowed',
        'notify.alert',
        'prod',
        challengedId,
        'approved again the confirmation requested by operator: already approved by this principal, nothing changed',
      ],
    ]);
  });
});

test("an approver must be one the policy lets run the action: an operator cannot approve an admin's destructive action", async () => {
  await withTwoPersonRule(async () => {
    const body = { action: 'data.truncate', params: { store: 'orders' }, target: { env: 'prod' } };
    type Challenged = { details?: { challenge?: { approval: string; confirmation_token: string } } };
    const challengeOf = (a: { body: unknown }) => (a.body as Challenged).details?.challenge;
    let answer = await execute(tokens.admin, { ...body, request_id: 'approver-role-0' });
    for (let i = 1; i < 50 && challengeOf(answer)?.approval !== 'other-principal'; i++) {
      await sleep(100);
      answer = await execute(tokens.admin, { ...body, request_id: `approver-role-${i}` });
    }
    assert.equal(answer.status, 428, answer.text);
    const confirmation_token = challengeOf(answer)?.confirmation_token;
    // The first 428 already says what comes first: another principal's approval.
    assert.match(
      String((answer.body.details as { fix?: string }).fix),
      /^Another principal approves it first .*then send the same request again/,
    );
    const byOperator = await api(serve.url, 'POST', '/v1/confirmations/approve', {
      token: tokens.operator,
      body: { confirmation_token },
    });
    assert.equal(byOperator.status, 403, byOperator.text);
    assert.equal(byOperator.body.code, 'DVM_FORBIDDEN');
    assert.equal((byOperator.body.details as { reason: string }).reason, 'approver-not-permitted');
    assert.match(String(byOperator.body.message), /operator may not approve data\.truncate in prod/);
    const audited = await api(serve.url, 'GET', '/v1/audit?actor=operator&action=data.truncate', {
      token: tokens.admin,
    });
    assert.deepEqual(
      (audited.body.items as { decision: string; operation?: string }[]).map((e) => [
        e.decision,
        e.operation,
      ]),
      [['denied', 'approve']],
    );
    // Not approved by the refusal: another admin still can.
    const byAdmin = await api(serve.url, 'POST', '/v1/confirmations/approve', {
      token: tokens.second,
      body: { confirmation_token },
    });
    assert.equal(byAdmin.status, 200, byAdmin.text);
    assert.equal(byAdmin.body.approved_by, 'second-admin');
  });
});

test('an approval by a token revoked before the run no longer counts; another principal approves again', async () => {
  await withTwoPersonRule(async () => {
    const body = { action: 'notify.alert', params: { message: 'revoked approver' }, target: { env: 'prod' } };
    const { confirmation_token } = (
      await secondPrincipalChallenge({ ...body, request_id: 'rev-0' }, 'rev-wait')
    ).challenge;
    const approve = (token: string) =>
      api(serve.url, 'POST', '/v1/confirmations/approve', { token, body: { confirmation_token } });
    const leaving = createToken(home, 'leaving-admin', 'admin');
    assert.equal((await approve(leaving)).status, 200);
    dvmOk(home, ['token', 'revoke', 'leaving-admin']);
    const before = received.length;
    const withdrawn = await execute(tokens.operator, { ...body, request_id: 'rev-run', confirmation_token });
    assert.equal(withdrawn.status, 428, withdrawn.text);
    assert.equal(received.length, before, 'nothing ran on the withdrawn approval');
    assert.equal((await approve(tokens.second)).status, 200, 'another principal may approve it now');
    const ran = await execute(tokens.operator, { ...body, request_id: 'rev-run-2', confirmation_token });
    assert.equal(ran.status, 200, ran.text);
    assert.equal(received.length, before + 1);
  });
});

test('the two-person rule counts owners, not tokens: two tokens of one owner cannot approve each other, another owner can', async () => {
  await withTwoPersonRule(async () => {
    const owned = (name: string, role: string, owner: string) => createToken(home, name, role, '1h', owner);
    const laptop = owned('alice-laptop', 'operator', 'alice');
    const aliceAdmin = owned('alice-admin', 'admin', 'alice');
    const bob = owned('bob-admin', 'admin', 'bob');
    const body = { action: 'notify.alert', params: { message: 'owners' }, target: { env: 'prod' } };
    const { challenge, requestId } = await secondPrincipalChallenge(
      { ...body, request_id: 'owner-0' },
      'owner-wait',
      laptop,
    );
    const { confirmation_token } = challenge;
    // Approvers see whose request it is: the token's name and the owner behind it.
    const waiting = await api(serve.url, 'GET', '/v1/confirmations', { token: bob });
    const item = (
      waiting.body.items as { request_id?: string; requested_by: string; requester_owner?: string }[]
    ).find((c) => c.request_id === requestId);
    assert.deepEqual([item?.requested_by, item?.requester_owner], ['alice-laptop', 'alice'], waiting.text);
    const listed = await dvmAsync(home, ['action', 'approvals'], {
      env: { DVM_SERVER: serve.url, DVM_TOKEN: bob },
    });
    assert.match(listed.stdout, /alice-laptop \(owner alice\)/, listed.stderr);
    const approve = (token: string) =>
      api(serve.url, 'POST', '/v1/confirmations/approve', { token, body: { confirmation_token } });
    const same = await approve(aliceAdmin);
    assert.equal(same.status, 403, same.text);
    assert.equal(same.body.code, 'DVM_CONFIRMATION_INVALID');
    assert.equal((same.body.details as { reason: string }).reason, 'self-approval');
    assert.equal(
      same.body.message,
      'alice-admin cannot approve the request of alice-laptop: both belong to owner alice',
    );
    const before = received.length;
    const early = await execute(laptop, { ...body, request_id: 'owner-run-0', confirmation_token });
    assert.equal(early.status, 428, `the refusal approved nothing: ${early.text}`);
    const other = await approve(bob);
    assert.equal(other.status, 200, other.text);
    assert.equal(other.body.approved_by, 'bob-admin');
    const ran = await execute(laptop, { ...body, request_id: 'owner-run-1', confirmation_token });
    assert.equal(ran.status, 200, ran.text);
    assert.equal(received.length, before + 1);
    // The audit shows whose the requester and the approver are, refused or approved.
    const audit = await api(serve.url, 'GET', `/v1/audit?request_id=${requestId}&limit=100`, {
      token: tokens.admin,
    });
    assert.deepEqual(
      (audit.body.items as { actor: string; decision: string; operation?: string; reasons?: string[] }[])
        .filter((e) => e.operation === 'approve')
        .map((e) => [e.actor, e.decision, e.reasons]),
      [
        [
          'alice-admin',
          'denied',
          [
            'refused to approve the confirmation requested by alice-laptop: self-approval',
            'requester owner alice, approver owner alice',
          ],
        ],
        [
          'bob-admin',
          'allowed',
          [
            'approved the confirmation requested by alice-laptop',
            'requester owner alice, approver owner bob',
          ],
        ],
      ],
    );
    // Everything alice's tokens did, and nothing of bob's: the owner filter, through the API and the CLI.
    const actorsOf = (items: unknown) =>
      [...new Set((items as { actor: string }[]).map((e) => e.actor))].sort();
    const alice = await api(serve.url, 'GET', '/v1/audit?owner=alice&limit=1000', { token: tokens.admin });
    assert.equal(alice.status, 200, alice.text);
    assert.deepEqual(actorsOf(alice.body.items), ['alice-admin', 'alice-laptop']);
    const cli = await dvmAsync(home, ['audit', '--owner', 'bob', '--limit', '1000', '-o', 'json'], {
      env: { DVM_SERVER: serve.url, DVM_TOKEN: tokens.admin },
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(actorsOf(JSON.parse(cli.stdout).items), ['bob-admin']);
    assert.equal((await dvmAsync(home, ['action', 'run', 'system.info'])).status, 0, 'the local user acts');
    const local = await dvmAsync(home, ['audit', '--owner', 'local', '--tail', '1000', '-o', 'json']);
    assert.equal(local.status, 0, local.stderr);
    assert.deepEqual(actorsOf(JSON.parse(local.stdout).items), ['local'], 'local owns the local user only');
  });
});

// Last: its refused approvals would show in the audit queries of the tests above.
type Operation = {
  parameters?: { name: string; in: string }[];
  responses: Record<
    string,
    { content?: Record<string, { schema?: unknown }>; 'x-dvm-error-codes'?: string[] }
  >;
};

test('the OpenAPI document names, per operation, each error status and code the server really answers', async () => {
  const doc = await api(serve.url, 'GET', '/v1/openapi.json', { token: tokens.viewer });
  const paths = doc.body.paths as Record<string, Record<string, Operation>>;
  const operation = (method: string, path: string) => paths[path][method.toLowerCase()];
  const run = (request_id: string, extra: Record<string, unknown> = {}) => ({
    request_id,
    action: 'system.info',
    target: { env: 'dev' },
    ...extra,
  });
  await execute(tokens.viewer, run('doc-conflict'));
  const started = await execute(tokens.viewer, run('doc-events'));
  const events = `/v1/executions/${started.body.execution_id}/events`;
  let deep: unknown = {};
  for (let i = 0; i < 40; i++) deep = { a: deep };
  const probes: [
    string,
    string,
    string,
    { token?: string; body?: unknown; headers?: Record<string, string> },
  ][] = [
    ['POST', '/v1/actions/execute', '/v1/actions/execute', { token: tokens.viewer, body: '{bad' }],
    ['POST', '/v1/actions/execute', '/v1/actions/execute', { token: tokens.viewer, body: deep }],
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      { token: tokens.viewer, body: '{"__proto__": {}, "request_id": "x"}' },
    ],
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      { token: tokens.viewer, body: { pad: 'x'.repeat(1024 * 1024) } },
    ],
    ['POST', '/v1/actions/execute', '/v1/actions/execute', { token: tokens.viewer, body: { action: 1 } }],
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      { token: tokens.viewer, body: run('doc-unknown', { action: 'no.such' }) },
    ],
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      {
        token: tokens.viewer,
        body: run('doc-deny', { action: 'notify.alert', params: { message: 'm' } }),
      },
    ],
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      {
        token: tokens.operator,
        body: run('doc-confirm', {
          action: 'notify.alert',
          params: { message: 'm' },
          target: { env: 'prod' },
        }),
      },
    ],
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      { token: tokens.viewer, body: run('doc-conflict', { target: { env: 'test' } }) },
    ],
    // An action's own failures (the probes above all end before one runs): 503 without a kubeconfig, 404 for a
    // container that is not there (503 when the tests' Docker engine is not running), 504 past its timeout.
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      { token: tokens.viewer, body: run('doc-no-kube', { action: 'k8s.events' }) },
    ],
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      {
        token: tokens.viewer,
        body: run('doc-no-container', {
          action: 'docker.logs',
          params: { container: 'no-such-container-dvm' },
        }),
      },
    ],
    [
      'POST',
      '/v1/actions/execute',
      '/v1/actions/execute',
      {
        token: tokens.operator,
        body: run('doc-timeout', {
          action: 'notify.alert',
          params: { message: 'unanswered' },
          timeout: '200ms',
        }),
      },
    ],
    ['POST', '/v1/confirmations/lookup', '/v1/confirmations/lookup', { token: tokens.operator, body: {} }],
    [
      'POST',
      '/v1/confirmations/lookup',
      '/v1/confirmations/lookup',
      { token: tokens.operator, body: { confirmation_token: 'dvmc_nope' } },
    ],
    ['POST', '/v1/confirmations/approve', '/v1/confirmations/approve', { token: tokens.viewer, body: {} }],
    [
      'POST',
      '/v1/confirmations/approve',
      '/v1/confirmations/approve',
      { token: tokens.operator, body: { confirmation_token: 'dvmc_nope' } },
    ],
    ['GET', '/v1/executions', '/v1/executions?nope=1', { token: tokens.viewer }],
    ['GET', '/v1/executions', '/v1/executions?principal=local', { token: tokens.viewer }],
    ['GET', '/v1/executions/{id}', '/v1/executions/nope', { token: tokens.viewer }],
    ['POST', '/v1/executions/{id}/cancel', '/v1/executions/nope/cancel', { token: tokens.viewer }],
    [
      'POST',
      '/v1/executions/{id}/cancel',
      `/v1/executions/${started.body.execution_id}/cancel`,
      { token: tokens.viewer },
    ],
    [
      'POST',
      '/v1/executions/{id}/cancel',
      `/v1/executions/${started.body.execution_id}/cancel`,
      { token: tokens.viewer, body: '{bad' },
    ],
    ['GET', '/v1/executions/{id}/events', '/v1/executions/nope/events', { token: tokens.viewer }],
    [
      'GET',
      '/v1/executions/{id}/events',
      events,
      { token: tokens.viewer, headers: { 'last-event-id': 'abc' } },
    ],
    ['GET', '/v1/audit', '/v1/audit?nope=1', { token: tokens.admin }],
    ['GET', '/v1/audit', '/v1/audit', { token: tokens.viewer }],
    ['GET', '/metrics', '/metrics', {}],
    [
      'GET',
      '/v1/actions',
      '/v1/actions',
      { token: 'dvm_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    ],
  ];
  const seen = new Set<string>();
  for (const [method, documented, path, options] of probes) {
    const response = await api(serve.url, method, path, options);
    assert.ok(
      response.status >= 400,
      `${method} ${path}: ${response.status} ${JSON.stringify(options.body)?.slice(0, 200)} ${response.text.slice(0, 300)}`,
    );
    const code = String(response.body.code);
    seen.add(`${response.status} ${code}`);
    const answer = operation(method, documented).responses[String(response.status)];
    assert.ok(answer, `${method} ${documented} documents ${response.status} (${code})`);
    assert.ok(
      answer.content?.['application/json']?.schema,
      `${method} ${documented} ${response.status} has a schema`,
    );
    assert.ok(
      answer['x-dvm-error-codes']?.includes(code),
      `${method} ${documented} ${response.status} lists ${code}: ${answer['x-dvm-error-codes']}`,
    );
  }
  // The probes met every error status the README promises for execute.
  for (const expected of ['400', '401', '403', '404', '409', '413', '422', '428', '503', '504'])
    assert.ok(
      [...seen].some((s) => s.startsWith(expected)),
      `${expected} in ${[...seen]}`,
    );
  // The health answer has the same body whether it is 200 or 503; events resume from the Last-Event-ID header.
  const health = operation('GET', '/v1/health').responses;
  assert.deepEqual(
    health['503'].content?.['application/json']?.schema,
    health['200'].content?.['application/json']?.schema,
  );
  assert.ok(
    operation('GET', '/v1/executions/{id}/events').parameters?.some(
      (p) => p.in === 'header' && p.name === 'Last-Event-ID',
    ),
  );
  assert.ok(operation('GET', '/v1/executions/{id}/events').responses['200'].content?.['text/event-stream']);
  assert.ok(operation('GET', '/metrics').responses['200'].content?.['text/plain']);
});

test('text with a lone UTF-16 surrogate anywhere in a request is refused with its path (422); a surrogate pair runs, and the audit chain verifies', async () => {
  // JSON text as a client may send it: a `\\ud800` escape without its other half.
  const lone = await execute(
    tokens.admin,
    '{"request_id":"lone-1","action":"system.info","target":{"env":"dev","host":"a\\ud800b"}}',
  );
  assert.equal(lone.status, 422, lone.text);
  assert.equal(lone.body.code, 'DVM_REQUEST_INVALID');
  const causes = (lone.body.details as { causes: { path: string; message: string }[] }).causes;
  assert.equal(causes[0].path, 'target.host');
  assert.match(causes[0].message, /not well-formed Unicode/);
  const key = await execute(
    tokens.admin,
    '{"request_id":"lone-2","action":"system.info","params":{"a\\udc00":1},"target":{"env":"dev"}}',
  );
  assert.equal(key.status, 422, key.text);
  assert.equal(
    (key.body.details as { causes: { path: string }[] }).causes[0].path,
    'params.a\ufffd (its key)',
  );
  const pair = await execute(tokens.admin, {
    request_id: 'lone-3',
    action: 'system.info',
    target: { env: 'dev', host: 'a\u{1F600}b' },
  });
  assert.equal(pair.status, 200, pair.text);
  assert.equal((pair.body.target as { host: string }).host, 'a\u{1F600}b');
  assert.match(dvmOk(home, ['audit', 'verify']).stdout, /audit chain intact/);
});

test('an empty path segment where an id goes names no route (DVM_ROUTE_NOT_FOUND), as any other bad path', async () => {
  for (const [method, path] of [
    ['GET', '/v1/executions/'],
    ['GET', '/v1/executions//events'],
    ['POST', '/v1/executions//cancel'],
  ] as const) {
    const response = await api(serve.url, method, path, { token: tokens.admin });
    assert.equal(response.status, 404, `${method} ${path}: ${response.text}`);
    assert.equal(response.body.code, 'DVM_ROUTE_NOT_FOUND', `${method} ${path}`);
  }
});

test('a JSON body sent as text/plain is refused for its media type on every body route, not as "no JSON object"', async () => {
  for (const path of ['/v1/actions/execute', '/v1/confirmations/lookup', '/v1/confirmations/approve']) {
    const response = await api(serve.url, 'POST', path, {
      token: tokens.operator,
      body: JSON.stringify({ request_id: 'plain', action: 'system.info', target: { env: 'dev' } }),
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(response.status, 400, `${path}: ${response.text}`);
    assert.equal(response.body.code, 'DVM_REQUEST_MALFORMED');
    assert.equal(response.body.message, 'the request body must be application/json', path);
  }
});

test('a confirmation route given a body that is no JSON object is DVM_REQUEST_MALFORMED (400), as execute is', async () => {
  for (const path of ['/v1/confirmations/lookup', '/v1/confirmations/approve']) {
    for (const [body, type] of [
      ['[1]', 'application/json'],
      ['"dvmc_x"', 'application/json'],
      ['confirmation_token=x', 'text/plain'],
    ]) {
      const response = await api(serve.url, 'POST', path, {
        token: tokens.operator,
        body,
        headers: { 'content-type': type },
      });
      assert.equal(response.status, 400, `${path} ${type} ${body}: ${response.text}`);
      assert.equal(response.body.code, 'DVM_REQUEST_MALFORMED');
      // A body sent as text/plain is refused for its media type, whatever it holds.
      if (type === 'text/plain')
        assert.equal(response.body.message, 'the request body must be application/json');
    }
    const none = await api(serve.url, 'POST', path, { token: tokens.operator });
    assert.equal(none.status, 400, `${path} without a body: ${none.text}`);
    // A reference of the wrong type is named as such, not taken for a missing one.
    for (const [field, value] of [
      ['confirmation_id', 12345678],
      ['confirmation_token', ['dvmc_x']],
    ] as const) {
      const wrong = await api(serve.url, 'POST', path, { token: tokens.operator, body: { [field]: value } });
      assert.equal(wrong.status, 422, wrong.text);
      assert.equal(wrong.body.code, 'DVM_REQUEST_INVALID');
      assert.equal(wrong.body.message, `${field} must be a string`);
      assert.equal((wrong.body.details as { path: string }).path, field);
    }
  }
});

test('URLs the router refuses (an over-long id, bad percent-encoding) answer in the error shape, token or not', async () => {
  for (const path of [`/v1/executions/${'x'.repeat(200)}`, '/v1/executions/%E0%A4%A/events']) {
    for (const token of [tokens.viewer, undefined]) {
      const answer = await api(serve.url, 'GET', path, { token });
      assert.equal(answer.status, 400, `${path}: ${answer.text}`);
      assert.equal(answer.body.code, 'DVM_REQUEST_MALFORMED', answer.text);
      assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'details', 'message', 'reason']);
      assert.equal(answer.headers.get('dvm-agent'), 'v1', 'every answer says it is the agent');
    }
  }
});
