// The agent API benchmarks of bench/run.ts: execute throughput and p99 against the same server's health
// throughput (load from a second process), exactly-once under 100 concurrent duplicates, 1,000 SSE clients on one
// execution, SIGKILL under load, and 10,000 malformed bodies.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEventStream } from '../src/agent/client/sse-client.ts';
import type { Row } from './engine.ts';
import { DVM, freshDir, median, NODE, ROOT } from './measure.ts';

const LOAD_SECONDS = process.env.BENCH_AGENT_SECONDS ?? '5';
const LOAD_ROUNDS = Number(process.env.BENCH_AGENT_ROUNDS ?? 2);
const DOCKER_HOST = process.env.DVM_TEST_DOCKER_HOST ?? 'unix:///tmp/dvm-docker.sock';

interface Serve {
  url: string;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function dvm(home: string, args: string[]): string {
  return execFileSync(NODE, [DVM, ...args], {
    cwd: ROOT,
    env: { ...process.env, DVM_HOME: home },
    encoding: 'utf8',
  }).trim();
}

async function serve(home: string, env: Record<string, string> = {}): Promise<Serve> {
  const child = spawn(NODE, [DVM, 'serve', '--listen', '127.0.0.1:0', '--poll-interval', '10s'], {
    cwd: ROOT,
    env: { ...process.env, DVM_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /agent API listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`dvm serve exited ${code}: ${out}`)));
  });
  return {
    url,
    child,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

function load(
  mode: 'health' | 'execute',
  url: string,
  token: string,
): { rps: number; p99: number; non2xx: number; errors: number } {
  const out = spawnSync(
    NODE,
    [join(import.meta.dirname, 'agent-load.ts'), mode, url, token, LOAD_SECONDS, '64'],
    {
      encoding: 'utf8',
      cwd: ROOT,
    },
  );
  if (out.status !== 0) throw new Error(`load ${mode} failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
}

async function post(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL('/v1/actions/execute', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed };
}

async function auditOf(
  url: string,
  token: string,
  query: string,
): Promise<{ decision: string; requestId?: string }[]> {
  const items: { decision: string; requestId?: string }[] = [];
  let after = '';
  for (;;) {
    const response = await fetch(
      new URL(`/v1/audit?limit=1000${query}${after ? `&after=${after}` : ''}`, url),
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    const page = (await response.json()) as {
      items: { decision: string; requestId?: string }[];
      next?: string;
    };
    items.push(...page.items);
    if (!page.next) return items;
    after = page.next;
  }
}

// A webhook receiver that counts notify.alert deliveries per message (the request id is the message).
async function hook(): Promise<{ url: string; deliveries: Map<string, number>; close(): void }> {
  const deliveries = new Map<string, number>();
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      const message = String((JSON.parse(data || '{}') as { message?: string }).message);
      deliveries.set(message, (deliveries.get(message) ?? 0) + 1);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alert`,
    deliveries,
    close: () => server.close(),
  };
}

async function throughput(home: string, admin: string): Promise<Row[]> {
  const server = await serve(home);
  try {
    const health: number[] = [];
    const execute: number[] = [];
    const p99s: number[] = [];
    let failures = 0;
    for (let round = 0; round < LOAD_ROUNDS; round++) {
      const h = load('health', server.url, admin);
      const e = load('execute', server.url, admin);
      health.push(h.rps);
      execute.push(e.rps);
      p99s.push(e.p99);
      failures += e.non2xx + e.errors + h.non2xx + h.errors;
    }
    const rps = median(execute);
    return [
      {
        name: 'POST /v1/actions/execute (system.info; auth, Cedar policy, durable audit) vs GET /v1/health, 64 connections',
        subject: rps,
        baseline: median(health),
        unit: 'req/s',
        minRatio: 0.4,
        note: `${failures} non-2xx/errors`,
      },
      {
        name: 'p99 latency of that execute load',
        subject: median(p99s),
        baseline: 25,
        unit: 'ms',
        maxValue: 25,
      },
    ];
  } finally {
    await server.stop();
  }
}

async function duplicates(
  home: string,
  operator: string,
  hookUrl: string,
  deliveries: Map<string, number>,
): Promise<Row> {
  const server = await serve(home, { DVM_NOTIFY_ALERT_URL: hookUrl });
  try {
    const id = `dup-${randomBytes(4).toString('hex')}`;
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        post(server.url, operator, {
          request_id: id,
          action: 'notify.alert',
          params: { message: id },
          target: { env: 'dev' },
        }),
      ),
    );
    const ok = answers.filter((a) => a.status === 200).length;
    const executions = new Set(answers.map((a) => a.body.execution_id)).size;
    return {
      name: '100 concurrent requests with one request_id: deliveries',
      subject: deliveries.get(id) ?? 0,
      baseline: 1,
      unit: 'count',
      exact: 1,
      note: `${ok}/100 answered 200, ${executions} execution id(s)`,
    };
  } finally {
    await server.stop();
  }
}

async function sseFanOut(home: string, operator: string): Promise<Row | undefined> {
  const probe = spawnSync('docker', ['-H', DOCKER_HOST, 'info'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error(`(SSE fan-out skipped: no Docker at ${DOCKER_HOST}; run scripts/services/docker.sh)`);
    return undefined;
  }
  const name = `dvm-bench-sse-${process.pid}`;
  execFileSync('docker', [
    '-H',
    DOCKER_HOST,
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'none',
    'local/busybox:1',
    'sh',
    '-c',
    'i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo line$i; sleep 0.01; done; sleep 3600',
  ]);
  const server = await serve(home, { DOCKER_HOST });
  try {
    // 1,000 clients connect to one follow before it produces anything worth seeing, all must see every event in order.
    const start = await post(server.url, operator, {
      request_id: `sse-${name}`,
      action: 'docker.logs',
      params: { container: name, tail: 1000, follow: true },
      target: { env: 'dev' },
      timeout: '8s',
    });
    const eventsUrl = new URL(String(start.body.events), server.url);
    const clients = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const response = await fetch(eventsUrl, { headers: { authorization: `Bearer ${operator}` } });
        const ids: number[] = [];
        for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>))
          ids.push(Number(event.id));
        return ids;
      }),
    );
    const longest = Math.max(...clients.map((c) => c.length));
    const complete = clients.filter(
      (ids) => ids.length === longest && ids.every((id, i) => id === i + 1),
    ).length;
    return {
      name: '1,000 SSE clients on one docker.logs follow: clients that got every event in order',
      subject: complete,
      baseline: 1000,
      unit: 'count',
      exact: 1000,
      note: `${longest} events each`,
    };
  } finally {
    await server.stop();
    spawnSync('docker', ['-H', DOCKER_HOST, 'rm', '-f', name]);
  }
}

async function killUnderLoad(
  home: string,
  operator: string,
  admin: string,
  hookUrl: string,
  deliveries: Map<string, number>,
): Promise<Row[]> {
  let server = await serve(home, { DVM_NOTIFY_ALERT_URL: hookUrl });
  const prefix = `kill-${randomBytes(3).toString('hex')}`;
  const sent = new Set<string>();
  const succeeded = new Set<string>();
  let stop = false;
  let next = 0;
  const worker = async () => {
    while (!stop) {
      const id = `${prefix}-${next++}`;
      sent.add(id);
      try {
        const r = await post(server.url, operator, {
          request_id: id,
          action: 'notify.alert',
          params: { message: id },
          target: { env: 'dev' },
        });
        if (r.status >= 200 && r.status < 300) succeeded.add(id);
      } catch {
        // the server died under us
      }
    }
  };
  const workers = Array.from({ length: 32 }, worker);
  await sleep(1500);
  await server.stop('SIGKILL');
  stop = true;
  await Promise.all(workers);
  server = await serve(home, { DVM_NOTIFY_ALERT_URL: hookUrl });
  try {
    // Retry every request the clients sent: a retry must never run an action a second time.
    for (const id of sent) {
      const r = await post(server.url, operator, {
        request_id: id,
        action: 'notify.alert',
        params: { message: id },
        target: { env: 'dev' },
      });
      if (r.status >= 200 && r.status < 300) succeeded.add(id);
    }
    const executed = new Set(
      (await auditOf(server.url, admin, '&decision=executed&action=notify.alert')).map((e) => e.requestId),
    );
    const missingAudit = [...succeeded].filter((id) => !executed.has(id)).length;
    const twice = [...sent].filter((id) => (deliveries.get(id) ?? 0) > 1).length;
    const verify = spawnSync(NODE, [DVM, 'audit', 'verify'], {
      cwd: ROOT,
      env: { ...process.env, DVM_HOME: home },
      encoding: 'utf8',
    });
    return [
      {
        name: 'SIGKILL under load, restart, retry all: 2xx answers without their audit entry',
        subject: missingAudit,
        baseline: 0,
        unit: 'count',
        exact: 0,
        note: `${sent.size} request ids, ${succeeded.size} answered 2xx`,
      },
      {
        name: 'the same: request ids delivered more than once',
        subject: twice,
        baseline: 0,
        unit: 'count',
        exact: 0,
      },
      {
        name: 'the same: dvm audit verify',
        subject: verify.status === 0 ? 0 : 1,
        baseline: 0,
        unit: 'count',
        exact: 0,
        note: (verify.stdout.trim() || verify.stderr.trim()).split('\n')[0],
      },
    ];
  } finally {
    await server.stop();
  }
}

// Random JSON-ish garbage, truncated documents, wrong types, huge strings and deep nesting.
function garbage(i: number): string {
  const r = randomBytes(64);
  switch (i % 8) {
    case 0:
      return r.toString('latin1');
    case 1:
      return JSON.stringify({
        request_id: r.toString('base64'),
        action: 'system.info',
        target: { env: 'dev' },
      }).slice(0, r[0] % 60);
    case 2:
      return JSON.stringify({ request_id: i, action: [1], params: 'x', target: null });
    case 3:
      return JSON.stringify({
        request_id: `f${i}`,
        action: 'system.info',
        params: { x: 'y'.repeat(r[0] * 100) },
        target: { env: 'dev' },
      });
    case 4:
      return `${'['.repeat(5000)}${']'.repeat(5000)}`;
    case 5:
      return JSON.stringify({
        request_id: `f${i}`,
        action: 'docker.logs',
        params: { container: r.toString('hex'), tail: -1 },
        target: { env: 'PROD!' },
      });
    case 6:
      return JSON.stringify({
        request_id: `f${i}`,
        action: 'system.info',
        target: { env: 'dev' },
        confirmation_token: r.toString('base64'),
      });
    default:
      return JSON.stringify([r.toString('hex'), null, true, { __proto__: { polluted: 1 } }]);
  }
}

async function malformed(home: string, admin: string): Promise<Row> {
  const server = await serve(home);
  try {
    let fiveHundreds = 0;
    let failures = 0;
    for (let batch = 0; batch < 100; batch++) {
      const statuses = await Promise.all(
        Array.from({ length: 100 }, (_, k) =>
          post(server.url, admin, garbage(batch * 100 + k))
            .then((r) => r.status)
            .catch(() => -1),
        ),
      );
      fiveHundreds += statuses.filter((s) => s >= 500).length;
      failures += statuses.filter((s) => s < 0).length;
    }
    const alive = (await fetch(new URL('/v1/health', server.url))).status === 200;
    return {
      name: '10,000 random and malformed execute bodies: 5xx answers, failed connections, server down',
      subject: fiveHundreds + failures + (alive ? 0 : 1),
      baseline: 0,
      unit: 'count',
      exact: 0,
      note: `${fiveHundreds} 5xx, ${failures} connection failures, server ${alive ? 'alive' : 'DOWN'}`,
    };
  } finally {
    await server.stop();
  }
}

/** Runs the agent benchmarks on fresh homes and returns their rows. */
export async function agentBenchmarks(): Promise<Row[]> {
  const home = freshDir('agent');
  const admin = dvm(home, ['token', 'create', '--name', 'bench-admin', '--role', 'admin', '--ttl', '1d']);
  const operator = dvm(home, [
    'token',
    'create',
    '--name',
    'bench-operator',
    '--role',
    'operator',
    '--ttl',
    '1d',
  ]);
  const receiver = await hook();
  try {
    const rows: Row[] = [];
    const phase = (name: string) => console.error(`agent benchmark: ${name}`);
    phase('throughput');
    rows.push(...(await throughput(home, admin)));
    phase('duplicates');
    rows.push(await duplicates(home, operator, receiver.url, receiver.deliveries));
    phase('SSE fan-out');
    const sse = await sseFanOut(home, operator);
    if (sse) rows.push(sse);
    phase('SIGKILL under load');
    rows.push(...(await killUnderLoad(home, operator, admin, receiver.url, receiver.deliveries)));
    phase('malformed bodies');
    rows.push(await malformed(home, admin));
    return rows;
  } finally {
    receiver.close();
  }
}
