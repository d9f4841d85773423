import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { api, createToken, type ServeProcess, startServe } from '../helpers/agent-server.ts';
import { DVM_BIN, dvmAsync, tempHome } from '../helpers/dvm.ts';
import { waitFor } from '../helpers/wait.ts';
import { freePort } from '../support/services.ts';

// A webhook receiver standing in for an alerting system: it counts what notify.alert delivers, by message.
const delivered = new Map<string, number>();
const hook = createHttpServer((req: IncomingMessage, res) => {
  let data = '';
  req.on('data', (d) => (data += d));
  req.on('end', () => {
    const message = String(JSON.parse(data || '{}').message ?? '');
    delivered.set(message, (delivered.get(message) ?? 0) + 1);
    res.writeHead(200).end('ok');
  });
});

/**
 * A TCP proxy in front of the real agent that loses answers: while `drops` is above 0, a connection that sent an
 * execute is cut the moment the agent's answer reaches the proxy (the agent ran and recorded it; the client never
 * hears). Everything else passes through unchanged.
 */
function lossyProxy(upstreamPort: number) {
  const state = { drops: 0, cut: 0 };
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let armed = false;
    client.on('data', (chunk) => {
      if (state.drops > 0 && chunk.toString('latin1').includes('POST /v1/actions/execute')) armed = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (armed && state.drops > 0) {
        state.drops--;
        state.cut++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      a.on('end', () => b.end());
      a.on('error', () => b.destroy());
      a.on('close', () => sockets.delete(a));
    }
  });
  return {
    state,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        ),
      ),
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

const home = tempHome();
let serve: ServeProcess;
let operator: string;
let admin: string;
let hookUrl: string;

before(async () => {
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alert`;
  operator = createToken(home, 'ops', 'operator');
  admin = createToken(home, 'auditor', 'admin');
  serve = await startServe(home, { DVM_NOTIFY_ALERT_URL: hookUrl });
});

after(async () => {
  await serve?.stop();
  hook.close();
});

const alert = (message: string, extra: string[] = []) => [
  'action',
  'run',
  'notify.alert',
  '--param',
  `message=${message}`,
  '--env',
  'dev',
  '-o',
  'json',
  ...extra,
];

test('a lost answer is sent again with the same request_id: the agent answers it from its key and the action runs once', async () => {
  const proxy = lossyProxy(Number(new URL(serve.url).port));
  const url = await proxy.listen();
  try {
    proxy.state.drops = 1;
    const run = await dvmAsync(home, alert('lost-once', ['--request-id', 'lost-once-1']), {
      env: { DVM_SERVER: url, DVM_TOKEN: operator },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(proxy.state.cut, 1, 'the proxy cut the first answer');
    assert.match(
      run.stderr,
      /POST \/v1\/actions\/execute: cannot reach the agent at .*; sending it again in \d+\.\d s \(retry 1 of 3\)/,
    );
    assert.match(run.stderr, /request_id lost-once-1 was sent before: this is the first request's answer/);
    assert.equal(JSON.parse(run.stdout).status, 'succeeded');
    assert.equal(delivered.get('lost-once'), 1, 'delivered once, not once per attempt');

    // The audit shows both requests: the run, and the repeat answered from its key.
    const audit = await api(serve.url, 'GET', '/v1/audit?requestId=lost-once-1', { token: admin });
    assert.equal(audit.status, 200, audit.text);
    const entries = audit.body.items as { decision: string; reasons?: string[] }[];
    assert.deepEqual(entries.map((e) => e.decision).sort(), ['allowed', 'allowed', 'executed']);
    assert.ok(entries.some((e) => e.reasons?.some((r) => /a repeat of this request_id/.test(r))));
  } finally {
    proxy.close();
  }
});

test('with --retries 0 a lost answer is reported; running the same command again with its --request-id gets the answer, not a second delivery', async () => {
  const proxy = lossyProxy(Number(new URL(serve.url).port));
  const url = await proxy.listen();
  const options = { env: { DVM_SERVER: url, DVM_TOKEN: operator } };
  try {
    proxy.state.drops = 1;
    const lost = await dvmAsync(
      home,
      alert('lost-no-retry', ['--request-id', 'nr-1', '--retries', '0']),
      options,
    );
    assert.equal(lost.status, 1);
    assert.match(lost.stderr, /DVM_CONNECTOR_UNAVAILABLE: cannot reach the agent/);
    assert.doesNotMatch(lost.stderr, /sending it again/);
    assert.equal(delivered.get('lost-no-retry'), 1, 'the agent ran it; the client never heard');

    const again = await dvmAsync(home, alert('lost-no-retry', ['--request-id', 'nr-1']), options);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /request_id nr-1 was sent before/);
    assert.equal(delivered.get('lost-no-retry'), 1, 'still one delivery');

    // The same id for something else is a conflict, not a run.
    const other = await dvmAsync(home, alert('something-else', ['--request-id', 'nr-1']), options);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /DVM_IDEMPOTENCY_CONFLICT/);
    assert.equal(delivered.get('something-else'), undefined);
  } finally {
    proxy.close();
  }
});

test('an agent that is not listening yet: the refused connection is retried until it is up', async () => {
  // Its own home: one home's jobs are served by one dvm serve at a time.
  const lateHome = tempHome();
  const token = createToken(lateHome, 'ops', 'operator');
  const port = await freePort();
  const child = spawn(process.execPath, [DVM_BIN, ...alert('late-agent', ['--retries', '8'])], {
    env: {
      ...process.env,
      DVM_HOME: lateHome,
      DVM_SERVER: `http://127.0.0.1:${port}`,
      DVM_TOKEN: token,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let late: ServeProcess | undefined;
  try {
    await waitFor('the first refused connection', () => /ECONNREFUSED.*retry 1 of 8/.test(stderr));
    late = await startServe(lateHome, { DVM_NOTIFY_ALERT_URL: hookUrl }, ['--listen', `127.0.0.1:${port}`]);
    assert.equal(await exited, 0, stderr);
    assert.equal(JSON.parse(stdout).status, 'succeeded');
    assert.equal(delivered.get('late-agent'), 1);
  } finally {
    child.kill('SIGKILL');
    await late?.stop();
  }
});

test('in-process, --request-id makes a command safe to repeat; a malformed id is a usage error', async () => {
  const local = tempHome();
  const env = { env: { DVM_NOTIFY_ALERT_URL: hookUrl } };
  const first = await dvmAsync(local, alert('local-repeat', ['--request-id', 'local-1']), env);
  assert.equal(first.status, 0, first.stderr);
  assert.doesNotMatch(first.stderr, /was sent before/);
  const second = await dvmAsync(local, alert('local-repeat', ['--request-id', 'local-1']), env);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stderr, /request_id local-1 was sent before: this is the first request's answer/);
  assert.equal(JSON.parse(second.stdout).execution_id, JSON.parse(first.stdout).execution_id);
  assert.deepEqual(
    [JSON.parse(first.stdout).replayed, JSON.parse(second.stdout).replayed],
    [undefined, true],
  );
  assert.equal(delivered.get('local-repeat'), 1);

  const bad = await dvmAsync(local, alert('x', ['--request-id', 'no spaces']), env);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /DVM_USAGE: --request-id "no spaces" is not a valid request_id/);
  const retries = await dvmAsync(local, alert('x', ['--retries', '11']), env);
  assert.equal(retries.status, 2);
  assert.match(retries.stderr, /DVM_USAGE: --retries "11" is not a whole number from 0 to 10/);
  assert.equal(delivered.get('x'), undefined);
});
