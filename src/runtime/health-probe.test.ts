import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { isDvmError } from '../errors/dvm-error.ts';
import { type HealthCheck, type ProbeResult, probeOnce, waitHealthy } from './health-probe.ts';

const timing = { intervalMs: 50, timeoutMs: 1000, retries: 0, startPeriodMs: 0 };

async function listen(server: Server | ReturnType<typeof createHttpServer>, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('command probes: exit 0 is healthy, non-zero, missing programs and hangs are not', async () => {
  assert.equal((await probeOnce({ ...timing, command: ['/bin/true'] })).ok, true);
  const failed = await probeOnce({ ...timing, command: ['/bin/false'] });
  assert.deepEqual([failed.ok, failed.detail], [false, 'exit status 1']);
  const missing = await probeOnce({ ...timing, command: ['/no/such/program'] });
  assert.match(missing.detail, /program not found/);
  const hung = await probeOnce({ ...timing, timeoutMs: 100, command: ['sleep', '5'] });
  assert.match(hung.detail, /no exit within 100 ms/);
  assert.ok(hung.durationMs < 2000);
});

test('a given runCommand runs command probes', async () => {
  const seen: [string[], number][] = [];
  const runCommand = async (argv: string[], timeoutMs: number) => {
    seen.push([argv, timeoutMs]);
    return 3;
  };
  const result = await probeOnce({ ...timing, command: ['pg_isready'] }, { runCommand });
  assert.deepEqual([result.ok, result.detail, seen], [false, 'exit status 3', [[['pg_isready'], 1000]]]);
});

test('tcp probes connect to a real server and fail on a closed port', async (t) => {
  const server = createServer((socket) => socket.destroy());
  t.after(() => server.close());
  const port = await listen(server);
  assert.equal((await probeOnce({ ...timing, tcp: { port } })).ok, true);
  const closed = await probeOnce({ ...timing, tcp: { host: '127.0.0.1', port: await freePort() } });
  assert.equal(closed.ok, false);
  assert.match(closed.detail, /ECONNREFUSED/);
});

test('http probes count 200-399 as healthy', async (t) => {
  const server = createHttpServer((req, res) => {
    res.statusCode = Number(req.url?.slice(1));
    res.end('body');
  });
  t.after(() => server.close());
  const port = await listen(server);
  const probe = (status: number) =>
    probeOnce({ ...timing, http: { url: `http://127.0.0.1:${port}/${status}` } });
  assert.equal((await probe(200)).ok, true);
  assert.equal((await probe(302)).ok, true);
  const failed = await probe(500);
  assert.deepEqual([failed.ok, failed.detail], [false, `HTTP 500 from http://127.0.0.1:${port}/500`]);
  const refused = await probeOnce({ ...timing, http: { url: `http://127.0.0.1:${await freePort()}/` } });
  assert.match(refused.detail, /HTTP request failed: .*ECONNREFUSED/);
});

test('an http probe with no answer times out', async (t) => {
  const server = createHttpServer(() => {});
  t.after(() => server.closeAllConnections());
  t.after(() => server.close());
  const port = await listen(server);
  const result = await probeOnce({ ...timing, timeoutMs: 100, http: { url: `http://127.0.0.1:${port}/` } });
  assert.deepEqual([result.ok, result.detail], [false, 'no HTTP answer within 100 ms']);
});

test('waitHealthy returns the first healthy probe, probing immediately', async () => {
  const probes: ProbeResult[] = [];
  const started = Date.now();
  const result = await waitHealthy(
    { ...timing, intervalMs: 10_000, command: ['/bin/true'] },
    { onProbe: (r) => probes.push(r) },
  );
  assert.equal(result.ok, true);
  assert.equal(probes.length, 1);
  assert.ok(Date.now() - started < 1000);
});

test('retries consecutive failures after the start period make it fail with the last detail', async () => {
  for (const retries of [0, 2]) {
    const probes: ProbeResult[] = [];
    await assert.rejects(
      waitHealthy({ ...timing, retries, command: ['/bin/false'] }, { onProbe: (r) => probes.push(r) }),
      (e) => isDvmError(e) && e.code === 'DVM_HEALTH_FAILED' && /exit status 1/.test(e.message),
    );
    assert.equal(probes.length, retries + 1);
  }
});

test('failures during the start period do not count', async () => {
  let calls = 0;
  const runCommand = async () => (++calls < 5 ? 1 : 0);
  const check: HealthCheck = { ...timing, intervalMs: 20, startPeriodMs: 5000, command: ['x'] };
  assert.equal((await waitHealthy(check, { runCommand })).ok, true);
  assert.equal(calls, 5);

  let failing = 0;
  const started = Date.now();
  const always = { ...check, startPeriodMs: 300, intervalMs: 100, retries: 1 };
  await assert.rejects(
    waitHealthy(always, { runCommand: async () => 1, onProbe: () => failing++ }),
    (e) => isDvmError(e) && e.code === 'DVM_HEALTH_FAILED' && /failed 2 time\(s\)/.test(e.message),
  );
  assert.ok(failing >= 4, `probed ${failing} times`);
  assert.ok(Date.now() - started >= 300);
});

test('while starting, a server that comes up late is noticed within the startup interval', async (t) => {
  const server = createServer((socket) => socket.destroy());
  t.after(() => server.close());
  const port = await freePort();
  setTimeout(() => listen(server, port), 300);
  const started = Date.now();
  const check = { ...timing, intervalMs: 10_000, startPeriodMs: 10_000, tcp: { port } };
  assert.equal((await waitHealthy(check)).ok, true);
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});

test('an abort stops waitHealthy promptly, even during a hung probe', async () => {
  const check: HealthCheck = {
    ...timing,
    intervalMs: 10_000,
    startPeriodMs: 60_000,
    command: ['/bin/false'],
  };
  for (const runCommand of [undefined, () => new Promise<number>(() => {})]) {
    const started = Date.now();
    await assert.rejects(
      waitHealthy(check, { signal: AbortSignal.timeout(200), runCommand }),
      (e) => isDvmError(e) && e.code === 'DVM_TIMEOUT',
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(
      waitHealthy(check, { signal: controller.signal, runCommand }),
      (e) => isDvmError(e) && e.code === 'DVM_CANCELLED',
    );
    assert.ok(Date.now() - started < 1500);
  }
});
