// One contract, two runtimes: the same suite runs a real redis-server on the process runtime and inside a real
// Docker container (an imported busybox image with the host's binaries bound read-only).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDockerRuntime } from '../../src/runtime/docker/docker-runtime.ts';
import { createProcessRuntime, findExecutable } from '../../src/runtime/process/process-runtime.ts';
import type { Runtime, ServiceSpec } from '../../src/runtime/types.ts';
import {
  dockerAnswers,
  requireService,
  TEST_DOCKER_HOST,
  TEST_PODMAN_HOST,
} from '../support/require-service.ts';
import { freePort } from '../support/services.ts';

const REDIS = '/usr/bin/redis-server';
const HOST_MOUNTS = ['/usr', '/lib', '/lib64', '/etc'].map((p) => ({ hostPath: p, containerPath: p }));

/** Sends PING to a Redis port; true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

function redisSpec(id: string, port: number, dataDir: string): ServiceSpec {
  const spec = {
    id,
    owner: `Dependency ${id}`,
    argv: [
      REDIS,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      '/data',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    image: 'local/busybox:1',
    env: { PATH: '/usr/bin:/bin' },
    ports: [{ containerPort: port, hostPort: port }],
    volumes: [{ name: 'data', hostPath: dataDir, mountPath: '/data' }],
    restart: 'always' as const,
  };
  return { ...spec, specHash: createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16) };
}

interface Flavour {
  name: string;
  available: (t: TestContext) => Promise<boolean>;
  make: (home: string) => Runtime;
  /** Paths as the service sees them (process: the host directory itself). */
  processPaths: boolean;
}

const redisInstalled = (t: TestContext) =>
  requireService(t, 'redis-server', async () => !!findExecutable(REDIS), 'bash scripts/services/redis.sh');

// The docker runtime against one engine's API (Docker, or Podman's compatible socket).
function engine(name: string, label: string, host: string, script: string): Flavour {
  return {
    name,
    available: async (t) =>
      (await requireService(t, label, () => dockerAnswers(host), `bash scripts/services/${script}`)) &&
      redisInstalled(t),
    make: (home) =>
      createDockerRuntime({
        homeKey: `${name[0]}${process.pid}${home
          .slice(-4)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, 'x')}`,
        host,
        mounts: HOST_MOUNTS,
      }),
    processPaths: false,
  };
}

const flavours: Flavour[] = [
  {
    name: 'process',
    available: redisInstalled,
    make: (home) => createProcessRuntime({ root: join(home, 'instances'), graceMs: 3000 }),
    processPaths: true,
  },
  engine('docker', 'Docker', TEST_DOCKER_HOST, 'docker.sh'),
  engine('podman', 'Podman API', TEST_PODMAN_HOST, 'podman.sh'),
];

for (const flavour of flavours) {
  describe(`runtime contract: ${flavour.name}`, () => {
    test(`${flavour.name}: start, adopt instead of duplicating, exec, logs, crash restart, stop, remove`, async (t) => {
      if (!(await flavour.available(t))) return;
      const home = mkdtempSync(join(tmpdir(), 'dvm-rt-'));
      const runtime = flavour.make(home);
      const port = await freePort();
      const base = redisSpec('contract-redis', port, join(home, 'data'));
      const spec = flavour.processPaths
        ? { ...base, argv: base.argv.map((a) => (a === '/data' ? join(home, 'data') : a)) }
        : base;
      try {
        const started = await runtime.start(spec);
        assert.equal(started.runtime, flavour.name === 'podman' ? 'docker' : flavour.name);
        assert.equal(started.status, 'running');
        await until(() => ping(port));

        const again = await runtime.start(spec);
        assert.equal(
          again.pid ?? again.containerId,
          started.pid ?? started.containerId,
          'adopted, not duplicated',
        );
        assert.equal((await runtime.list()).filter((s) => s.id === spec.id).length, 1);

        assert.equal(
          await runtime.exec(spec.id, ['/usr/bin/redis-cli', '-p', String(port), 'ping'], 5000),
          0,
        );
        assert.notEqual(await runtime.exec(spec.id, ['/usr/bin/redis-cli', '-p', '1', 'ping'], 5000), 0);

        const lines: string[] = [];
        for await (const line of runtime.logs(spec.id)) lines.push(line);
        assert.ok(
          lines.some((l) => /Ready to accept connections/.test(l)),
          lines.join('\n'),
        );

        const before = (await runtime.inspect(spec.id))?.pid;
        await runtime.kill(spec.id);
        await until(async () => {
          const s = await runtime.inspect(spec.id);
          return s?.status === 'running' && (s.restarts ?? 0) >= 1 && s.pid !== before;
        }, 20_000);
        await until(() => ping(port));

        await runtime.stop(spec.id, { graceMs: 3000 });
        const stopped = await runtime.inspect(spec.id);
        assert.notEqual(stopped?.status, 'running');
        assert.equal(await ping(port), false, 'nothing answers after stop');

        await runtime.remove(spec.id);
        assert.equal(await runtime.inspect(spec.id), undefined);
        assert.equal((await runtime.list()).length, 0);
      } finally {
        await runtime.remove(spec.id).catch(() => {});
        rmSync(home, { recursive: true, force: true });
      }
    });

    test(`${flavour.name}: a port in use is a coded error naming its holder`, async (t) => {
      if (!(await flavour.available(t))) return;
      const home = mkdtempSync(join(tmpdir(), 'dvm-rt-'));
      const runtime = flavour.make(home);
      const holder = createServer();
      await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
      const { port } = holder.address() as { port: number };
      try {
        await assert.rejects(
          runtime.start(redisSpec('busy-redis', port, join(home, 'data'))),
          (error: Error & { code?: string }) => {
            assert.equal(error.code, 'DVM_PORT_IN_USE');
            assert.match(error.message, new RegExp(`pid ${process.pid}`));
            return true;
          },
        );
        assert.equal(await runtime.inspect('busy-redis').then((s) => s?.status === 'running'), false);
      } finally {
        holder.close();
        await runtime.remove('busy-redis').catch(() => {});
        rmSync(home, { recursive: true, force: true });
      }
    });
  });
}

test('process runtime: a new dvm adopts a service whose supervisor died, and still restarts it on crash', async (t) => {
  if (!(await flavours[0]?.available(t))) return;
  const home = mkdtempSync(join(tmpdir(), 'dvm-rt-'));
  const runtime = createProcessRuntime({ root: join(home, 'instances'), graceMs: 3000 });
  const port = await freePort();
  const spec = redisSpec('adopt-redis', port, join(home, 'data'));
  spec.argv = spec.argv.map((a) => (a === '/data' ? join(home, 'data') : a));
  try {
    const first = await runtime.start(spec);
    await until(() => ping(port));
    const { readFileSync } = await import('node:fs');
    const state = JSON.parse(readFileSync(join(home, 'instances', spec.id, 'state.json'), 'utf8'));
    process.kill(state.supervisorPid, 'SIGKILL');
    await sleep(200);
    assert.equal(await ping(port), true, 'the service outlives its supervisor');

    const fresh = createProcessRuntime({ root: join(home, 'instances'), graceMs: 3000 });
    const adopted = await fresh.start(spec);
    assert.equal(adopted.pid, first.pid, 'the running process was adopted, not started twice');
    await until(() => {
      const s = JSON.parse(readFileSync(join(home, 'instances', spec.id, 'state.json'), 'utf8'));
      return s.supervisorPid !== state.supervisorPid;
    });

    await fresh.kill(spec.id);
    await until(async () => {
      const s = await fresh.inspect(spec.id);
      return s?.status === 'running' && s.pid !== first.pid;
    }, 20_000);
    await until(() => ping(port));
  } finally {
    await runtime.remove(spec.id).catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
});

test('process runtime: a service log past the rotation size is rotated to output.log.1 when the service restarts', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-rt-'));
  const runtime = createProcessRuntime({ root: join(home, 'instances'), graceMs: 1000 });
  process.env.DVM_LOG_ROTATE_BYTES = '1000';
  const base = {
    id: 'chatty',
    owner: 'a chatty service',
    argv: [
      '/bin/sh',
      '-c',
      'i=0; while [ $i -lt 200 ]; do echo "line $i of output"; i=$((i+1)); done; exit 3',
    ],
    env: { PATH: '/usr/bin:/bin' },
    ports: [],
    volumes: [],
    restart: 'on-failure' as const,
  };
  try {
    await runtime.start({ ...base, specHash: 'chatty-1' });
    await until(async () => ((await runtime.inspect('chatty'))?.restarts ?? 0) >= 1, 10_000);
    const { existsSync, statSync } = await import('node:fs');
    const log = join(home, 'instances', 'chatty', 'output.log');
    await until(() => existsSync(`${log}.1`), 5_000);
    assert.ok(statSync(`${log}.1`).size > 1000, 'the full first log was kept as output.log.1');
  } finally {
    delete process.env.DVM_LOG_ROTATE_BYTES;
    await runtime.remove('chatty').catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
});

test('process runtime: the log of a running service is rotated in place once past the rotation size', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-rt-'));
  const runtime = createProcessRuntime({ root: join(home, 'instances'), graceMs: 1000 });
  process.env.DVM_LOG_ROTATE_BYTES = '4000';
  process.env.DVM_LOG_ROTATE_CHECK_MS = '100';
  const base = {
    id: 'talker',
    owner: 'a talking service',
    argv: ['/bin/sh', '-c', 'i=0; while true; do echo "output line $i"; i=$((i+1)); sleep 0.002; done'],
    env: { PATH: '/usr/bin:/bin' },
    ports: [],
    volumes: [],
    restart: 'always' as const,
  };
  try {
    const first = await runtime.start({ ...base, specHash: 'talker-1' });
    const { existsSync, readFileSync } = await import('node:fs');
    const log = join(home, 'instances', 'talker', 'output.log');
    await until(() => existsSync(`${log}.1`), 10_000);
    const state = await runtime.inspect('talker');
    assert.equal(state?.pid, first.pid, 'rotated while the service kept running');
    assert.equal(state?.restarts, 0);
    // The service keeps appending to the truncated file from its start, not past a hole.
    await until(() => readFileSync(log, 'utf8').length > 0, 5_000);
    assert.match(readFileSync(log, 'utf8').split('\n')[0] ?? '', /^output line \d+$/);
  } finally {
    delete process.env.DVM_LOG_ROTATE_BYTES;
    delete process.env.DVM_LOG_ROTATE_CHECK_MS;
    await runtime.remove('talker').catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
});
