import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEventStream } from '../../src/agent/client/sse-client.ts';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { docker, removeContainers, startBusybox, startChatty, startDockerFollow } from '../helpers/docker.ts';
import { DVM_BIN, dvmAsync, tempHome } from '../helpers/dvm.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';

const home = tempHome();
const name = `dvm-api-${process.pid}`;
const flood = `dvm-api-flood-${process.pid}`;
after(() => {
  removeContainers(name, flood);
});

test('through the API: docker.logs follow answers 202 and streams lines over SSE; a restart in prod needs confirmation', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  startChatty(name);
  const operator = createToken(home, 'op', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    const health = await api(serve.url, 'GET', '/v1/health');
    assert.equal((health.body.connectors as Record<string, { status: string }>).docker.status, 'ok');

    const accepted = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: operator,
      body: {
        request_id: 'follow-1',
        action: 'docker.logs',
        params: { container: name, tail: 0, follow: true },
        target: { env: 'dev' },
        timeout: '2s',
      },
    });
    assert.equal(accepted.status, 202, accepted.text);
    const started = performance.now();
    const repeat = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: operator,
      body: {
        request_id: 'follow-1',
        action: 'docker.logs',
        params: { container: name, tail: 0, follow: true },
        target: { env: 'dev' },
        timeout: '2s',
      },
    });
    assert.ok(performance.now() - started < 1000, 'a repeat while it follows is answered at once');
    assert.deepEqual([repeat.status, repeat.body], [202, accepted.body], 'with the first 202');
    const response = await fetch(new URL(String(accepted.body.events), serve.url), {
      headers: { authorization: `Bearer ${operator}` },
    });
    const events = [];
    for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>))
      events.push(event);
    const logs = events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).line);
    assert.ok(logs.length >= 5, `${logs.length} lines streamed`);
    assert.ok(
      logs.every((l, i) => i === 0 || Number(l.slice(4)) === Number(logs[i - 1].slice(4)) + 1),
      'in order, none lost',
    );
    assert.equal(events.at(-1)?.event, 'completed', 'the 2 s timeout ends the follow with what it gathered');
    const summary = JSON.parse(events.at(-1)?.data ?? '{}').result.summary;
    assert.equal(summary.followed, true);
    assert.equal(summary.lines, logs.length);

    const restart = {
      request_id: 'restart-1',
      action: 'docker.restart_container',
      params: { container: name, timeoutSeconds: 0 },
      target: { env: 'prod' },
    };
    const challenge = await api(serve.url, 'POST', '/v1/actions/execute', { token: operator, body: restart });
    assert.equal(challenge.status, 428);
    const before = docker('inspect', '-f', '{{.State.StartedAt}}', name);
    const cli = await dvmAsync(
      home,
      [
        'action',
        'run',
        'docker.restart_container',
        '--param',
        `container=${name}`,
        '--param',
        'timeoutSeconds=0',
        '--env',
        'prod',
        '--yes',
      ],
      {
        env: { DVM_SERVER: serve.url, DVM_TOKEN: operator },
      },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.notEqual(docker('inspect', '-f', '{{.State.StartedAt}}', name), before);
    // Its stream, read after the end: started, the restart's progress in order, completed.
    const executionId = /execution (\S+):/.exec(cli.stderr)?.[1];
    assert.ok(executionId, cli.stderr);
    const stream = await api(serve.url, 'GET', `/v1/executions/${executionId}/events?follow=false`, {
      token: operator,
    });
    const restartEvents = [];
    const bytes = (async function* () {
      yield new TextEncoder().encode(stream.text);
    })();
    for await (const event of parseEventStream(bytes)) restartEvents.push(event);
    assert.deepEqual(
      restartEvents.map((e) => e.event),
      ['started', 'progress', 'progress', 'progress', 'completed'],
      stream.text,
    );
    const progress = restartEvents.filter((e) => e.event === 'progress').map((e) => JSON.parse(e.data));
    assert.match(progress[0].message, new RegExp(`^restarting ${name} \\(running; SIGKILL after 0 s\\)$`));
    assert.deepEqual(
      progress.map((p) => p.percent),
      [10, 80, 100],
    );
    assert.match(progress[2].message, /is running again \(started /);
  } finally {
    await serve.stop();
  }
});

test('through the API: a follow of more output than the cap streams up to the cap, then one truncated event', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  // 6,000 lines of 300 bytes (1.8 MB) at once, then `done`, then quiet.
  startBusybox(flood, 'yes $(printf "%0299d" 0) | head -n 6000; echo done; sleep 600');
  const operator = createToken(home, 'flood-op', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    await waitFor(() => docker('logs', '--tail', '1', flood) === 'done');
    const accepted = await startDockerFollow(serve.url, operator, {
      requestId: 'flood-1',
      container: flood,
      timeout: '3s',
      tail: 10_000,
    });
    const response = await fetch(new URL(String(accepted.events), serve.url), {
      headers: { authorization: `Bearer ${operator}` },
    });
    const text = await response.text();
    const events = [];
    for await (const event of parseEventStream(chunks(text))) events.push(event);
    // The completed event carries the result and its (capped) artifact; everything before it is the stream.
    const streamed = text.length - (events.at(-1)?.data.length ?? 0);
    assert.ok(streamed < 1.5 * 1024 * 1024, `${streamed} bytes of SSE before the result`);
    const types = events.map((e) => e.event);
    const logs = types.filter((e) => e === 'log').length;
    assert.equal(logs, Math.floor((1024 * 1024) / 300), '299 bytes and a newline each, up to the 1 MiB cap');
    assert.deepEqual(types.slice(logs + 1), ['truncated', 'completed']);
    assert.equal(JSON.parse(events[logs + 1].data).max_bytes, 1024 * 1024);
    const artifact = JSON.parse(events.at(-1)?.data ?? '{}').result.artifact;
    assert.deepEqual([artifact.truncated, artifact.totalBytes], [true, 6000 * 302 + 'O done\n'.length]);
  } finally {
    await serve.stop();
  }
  const db = new DatabaseSync(join(home, 'agent.db'), { readOnly: true });
  const stored = db.prepare('SELECT sum(length(event)) AS bytes FROM execution_events').get() as {
    bytes: number;
  };
  db.close();
  assert.ok(stored.bytes < 1.5 * 1024 * 1024, `${stored.bytes} bytes of stored events`);
});

// `dvm action run docker.logs --follow` of `container`'s new lines, for up to `timeout`, with `extra` flags.
function followArgs(container: string, timeout: string, ...extra: string[]): string[] {
  return [
    'action',
    'run',
    'docker.logs',
    '--param',
    `container=${container}`,
    '--param',
    'tail=0',
    ...extra,
    '--follow',
    '--timeout',
    timeout,
  ];
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(100);
}

async function* chunks(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

test('through the API: once its token is revoked, an event stream ends saying why, and the follow it started is cancelled', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const chatty = `dvm-api-revoke-${process.pid}`;
  startChatty(chatty);
  const viewer = createToken(home, 'revoked-viewer', 'viewer');
  const admin = createToken(home, 'revoke-admin', 'admin');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    const accepted = await startDockerFollow(serve.url, viewer, {
      requestId: 'revoke-follow',
      container: chatty,
      timeout: '8s',
    });
    // A CLI follower of the same execution, with the same token: once it has printed a line, the token goes.
    const follower = spawn(
      process.execPath,
      [DVM_BIN, 'execution', 'logs', String(accepted.execution_id), '-f'],
      {
        env: { ...process.env, DVM_HOME: home, DVM_SERVER: serve.url, DVM_TOKEN: viewer },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let followed = '';
    let said = '';
    follower.stdout.on('data', (d) => (followed += d));
    follower.stderr.on('data', (d) => (said += d));
    const followerExit = new Promise<number | null>((resolve) => follower.on('exit', resolve));
    const response = await fetch(new URL(String(accepted.events), serve.url), {
      headers: { authorization: `Bearer ${viewer}` },
    });
    const started = performance.now();
    let revokedAt = 0;
    let after = 0;
    let last = '';
    let closed: { code?: string; message?: string } = {};
    for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>)) {
      last = event.event;
      if (event.event === 'closed') closed = JSON.parse(event.data);
      if (revokedAt) after++;
      else if (event.event === 'log' && followed.includes('\n')) {
        await dvmAsync(home, ['token', 'revoke', 'revoked-viewer']);
        revokedAt = performance.now();
      }
    }
    assert.ok(revokedAt > 0, 'a log line came');
    assert.ok(
      performance.now() - revokedAt < 3000,
      `the stream ended ${performance.now() - started} ms after it began`,
    );
    // It says why, last: a client tells a revoked token from a dropped connection.
    assert.equal(last, 'closed', 'it ended before the follow did, saying why');
    assert.equal(closed.code, 'DVM_UNAUTHENTICATED');
    assert.match(String(closed.message), /revoked/);
    assert.ok(after < 30, `${after} events after the revocation`);
    const again = await fetch(new URL(String(accepted.events), serve.url), {
      headers: { authorization: `Bearer ${viewer}` },
    });
    assert.equal(again.status, 401);
    await again.text();
    // What the revoked token runs is stopped too (as Vault revokes a token's leases): failed, DVM_CANCELLED.
    let record = await api(serve.url, 'GET', `/v1/executions/${accepted.execution_id}`, { token: admin });
    for (let i = 0; i < 50 && record.body.status === 'running'; i++) {
      await sleep(100);
      record = await api(serve.url, 'GET', `/v1/executions/${accepted.execution_id}`, { token: admin });
    }
    assert.equal(record.body.status, 'failed', 'the follow was stopped, not left to its 8 s timeout');
    const error = record.body.error as { code: string; message: string };
    assert.equal(error.code, 'DVM_CANCELLED');
    assert.match(error.message, /cancelled by the revocation of its token/);
    assert.match(serve.output(), /cancelling execution \S+: its token \(token\/[0-9a-f]{8}\) was revoked/);
    // The CLI follower, cut off mid-stream, says why and fails; never that the execution still runs.
    assert.equal(await followerExit, 1, said);
    assert.match(said, /DVM_UNAUTHENTICATED/);
    assert.doesNotMatch(said, /still running/);
  } finally {
    await serve.stop();
    removeContainers(chatty);
  }
});

test('through the API: cancelling a follow ends it at once, failed with DVM_CANCELLED, not completed with what it gathered', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const chatty = `dvm-api-cancel-${process.pid}`;
  startChatty(chatty);
  const viewer = createToken(home, 'cancel-viewer', 'viewer');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    const accepted = await startDockerFollow(serve.url, viewer, {
      requestId: 'cancel-follow',
      container: chatty,
      timeout: '60s',
    });
    const response = await fetch(new URL(String(accepted.events), serve.url), {
      headers: { authorization: `Bearer ${viewer}` },
    });
    const events: string[] = [];
    let cancelled: Awaited<ReturnType<typeof api>> | undefined;
    let took = 0;
    for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>)) {
      events.push(event.event);
      if (event.event === 'failed') assert.equal(JSON.parse(event.data).error.code, 'DVM_CANCELLED');
      if (event.event === 'log' && !cancelled) {
        const started = performance.now();
        cancelled = await api(serve.url, 'POST', `/v1/executions/${accepted.execution_id}/cancel`, {
          token: viewer,
        });
        took = performance.now() - started;
      }
    }
    assert.equal(cancelled?.status, 200, cancelled?.text);
    assert.ok(took < 1000, `answered ${took} ms after the cancel was sent`);
    assert.equal(cancelled.body.status, 'failed');
    assert.equal((cancelled.body.error as { code: string }).code, 'DVM_CANCELLED');
    assert.equal(events.at(-1), 'failed', events.join(' '));
    assert.ok(!events.includes('completed'));
  } finally {
    await serve.stop();
    removeContainers(chatty);
  }
});

test('dvm action run --follow through a remote agent that dies resumes once it is back and reports the execution interrupted', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const chatty = `dvm-api-restart-${process.pid}`;
  startChatty(chatty);
  const restartHome = tempHome();
  const operator = createToken(restartHome, 'follower', 'operator');
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const serve = () => {
    const child = spawn(process.execPath, [DVM_BIN, 'serve', '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, DVM_HOME: restartHome, DOCKER_HOST: TEST_DOCKER_HOST, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise<typeof child>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('agent API listening')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`dvm serve exited ${code}: ${out}`)));
    });
  };
  const first = await serve();
  let second: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    const following = dvmAsync(restartHome, followArgs(chatty, '60s', '--param', 'follow=true'), {
      env: { DVM_SERVER: `http://127.0.0.1:${port}`, DVM_TOKEN: operator },
    });
    await sleep(1500);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await sleep(1000);
    second = await serve();
    const run = await following;
    assert.match(run.stdout, /^line\d+$/m, 'lines were streamed before the agent died');
    assert.doesNotMatch(run.stderr, /DVM_INTERNAL/, run.stderr);
    assert.match(run.stderr, /DVM_EXECUTION_INTERRUPTED/, run.stderr);
    assert.notEqual(run.status, 0);
  } finally {
    for (const child of [first, second]) if (child && child.exitCode === null) child.kill('SIGKILL');
    removeContainers(chatty);
  }
});

test('SIGTERM while a follow streams: the follow ends failed DVM_CANCELLED on its stream and serve exits, not after the follow’s timeout', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const chatty = `dvm-api-stop-${process.pid}`;
  startChatty(chatty);
  t.after(() => {
    removeContainers(chatty);
  });
  const stopHome = tempHome();
  const operator = createToken(stopHome, 'stop-op', 'operator');
  const serve = await startServe(stopHome, { DOCKER_HOST: TEST_DOCKER_HOST });
  const follow = await startDockerFollow(serve.url, operator, {
    requestId: 'follow-stop',
    container: chatty,
    timeout: '10m',
  });
  const response = await fetch(new URL(follow.events, serve.url), {
    headers: { authorization: `Bearer ${operator}` },
  });
  const events: { event: string; data: string }[] = [];
  const streamed = (async () => {
    for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>))
      events.push(event);
  })();
  while (!events.some((e) => e.event === 'log')) await sleep(25);
  const started = performance.now();
  assert.equal(await serve.stop('SIGTERM'), 0, serve.output());
  const took = performance.now() - started;
  assert.ok(took < 8000, `serve took ${Math.round(took)} ms to stop with a follow streaming`);
  await streamed;
  const last = events.at(-1);
  assert.equal(last?.event, 'failed', JSON.stringify(events.slice(-3)));
  assert.equal(JSON.parse(String(last?.data)).error.code, 'DVM_CANCELLED');
});

test('through the API: a restart whose timeout cannot cover its grace period is refused before it runs (it would end 504 with its outcome unknown)', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const stubborn = `dvm-api-stubborn-${process.pid}`;
  // A process that ignores SIGTERM: Docker waits the whole grace period before it kills it.
  startBusybox(stubborn, 'trap "" TERM; while true; do sleep 1; done');
  const operator = createToken(home, 'stubborn-op', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    const startedAt = docker('inspect', '-f', '{{.State.StartedAt}}', stubborn);
    const answer = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: operator,
      body: {
        request_id: 'stubborn-1',
        action: 'docker.restart_container',
        params: { container: stubborn, timeoutSeconds: 5 },
        target: { env: 'dev' },
        timeout: '1s',
      },
    });
    assert.equal(answer.status, 422, answer.text);
    assert.equal(answer.body.code, 'DVM_REQUEST_INVALID');
    assert.match(
      String(answer.body.message),
      /timeout 1s is shorter than the 35 s docker\.restart_container needs/,
    );
    assert.equal((answer.body.details as { path: string }).path, 'timeout');
    assert.equal(docker('inspect', '-f', '{{.State.StartedAt}}', stubborn), startedAt, 'nothing ran');
  } finally {
    await serve.stop();
    removeContainers(stubborn);
  }
});

test('dvm action run --follow of docker.logs follows (as kubectl logs -f), prints each line once, and reports the end its stream told when the agent stops', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const chatty = `dvm-api-once-${process.pid}`;
  startChatty(chatty);
  const onceHome = tempHome();
  const operator = createToken(onceHome, 'tail-f', 'operator');
  const serve = await startServe(onceHome, { DOCKER_HOST: TEST_DOCKER_HOST });
  const env = { DVM_SERVER: serve.url, DVM_TOKEN: operator, DOCKER_HOST: TEST_DOCKER_HOST };
  const follow = (timeout: string) => dvmAsync(onceHome, followArgs(chatty, timeout), { env });
  try {
    // No follow=true param: --follow is enough. The follow ends at its timeout with what it gathered.
    const run = await follow('2s');
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.ok(lines.length >= 5, run.stdout);
    assert.ok(
      lines.every((l) => /^line\d+$/.test(l)),
      `only the streamed lines, unprefixed:\n${run.stdout}`,
    );
    assert.equal(new Set(lines).size, lines.length, 'each line once');
    assert.match(run.stderr, /docker\.logs@1\.0\.0 succeeded/);

    // Serve stops while it follows: the stream's final event (cancelled) is the answer, not a lost connection.
    const stopping = follow('60s');
    const running = async () =>
      (
        (await api(serve.url, 'GET', '/v1/executions?status=running', { token: operator })).body
          .items as unknown[]
      ).length > 0;
    for (let i = 0; i < 100 && !(await running()); i++) await sleep(100);
    await serve.stop();
    const stopped = await stopping;
    assert.notEqual(stopped.status, 0);
    assert.match(stopped.stderr, /DVM_CANCELLED: the agent is stopping/, stopped.stderr);
    assert.doesNotMatch(stopped.stderr, /DVM_CONNECTOR_UNAVAILABLE/);
  } finally {
    await serve.stop();
    removeContainers(chatty);
  }
});

test('dvm action run docker.logs prints each line on the stream it came from, untagged (as docker logs does)', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const both = `dvm-api-both-${process.pid}`;
  startBusybox(both, 'echo out1; echo err1 >&2; echo out2; sleep 600');
  try {
    await waitFor(() => docker('logs', both).includes('out2'));
    const run = await dvmAsync(tempHome(), ['action', 'run', 'docker.logs', '--param', `container=${both}`], {
      env: { DOCKER_HOST: TEST_DOCKER_HOST },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'out1\nout2\n');
    assert.match(run.stderr, /^err1$/m);
    assert.doesNotMatch(run.stderr, /^E /m);
  } finally {
    removeContainers(both);
  }
});
