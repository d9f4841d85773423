// The dependency benchmark of bench/run.ts (report only, no target): the time from `dvm start dependency` to
// healthy for PostgreSQL and Redis on the process and docker runtimes, against starting the same binary directly
// and polling the same readiness probe (pg_isready / redis-cli ping) every 25 ms. Both start on a data directory
// initialised beforehand (warm start); the dvm time is the whole `dvm start` process, CLI start-up included.
// The docker runtime runs the host binaries in an imported busybox image (no registry is reachable here).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../src/runtime/port-holder.ts';
import { lookupUser } from '../src/runtime/process/proc.ts';
import { findExecutable } from '../src/runtime/process/process-runtime.ts';
import { expandBinPaths } from '../src/service/deps/service-spec.ts';
import type { Row } from './engine.ts';
import { DVM, freshDir, median, NODE, OUT, ROOT } from './measure.ts';

const RUNS = Number(process.env.BENCH_DEPS_RUNS ?? 5);
const DOCKER = process.env.DVM_TEST_DOCKER_HOST ?? 'unix:///tmp/dvm-docker.sock';

function dvm(home: string, args: string[]): number {
  const start = performance.now();
  const r = spawnSync(NODE, [DVM, ...args], {
    cwd: ROOT,
    env: { ...process.env, DVM_HOME: home },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`dvm ${args.join(' ')}: ${r.stderr}`);
  return performance.now() - start;
}

async function direct(argv: string[], probe: string[], user?: string): Promise<number> {
  const ids = user && process.getuid?.() === 0 ? lookupUser(user) : undefined;
  const start = performance.now();
  const child: ChildProcess = spawn(argv[0] ?? '', argv.slice(1), {
    stdio: 'ignore',
    detached: true,
    ...(ids ?? {}),
  });
  try {
    for (;;) {
      if (spawnSync(probe[0] ?? '', probe.slice(1)).status === 0) return performance.now() - start;
      if (performance.now() - start > 60_000) throw new Error(`${argv[0]} did not become ready`);
      await sleep(25);
    }
  } finally {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

function definitions(
  pgBin: string,
  pgPort: number,
  redisPort: number,
  runtime: 'process' | 'docker',
): string {
  // Docker resolves user names in the image's own /etc/passwd, so the container gets postgres's numeric ids.
  const ids = lookupUser('postgres');
  const pgUser = ids ? `${ids.uid}:${ids.gid}` : 'postgres';
  const pgCommand = `[${pgBin}/postgres, -D, "$(volumes.data)", -p, "$(port)", -c, listen_addresses=127.0.0.1, -k, ""]`;
  const redisCommand =
    '[/usr/bin/redis-server, --port, "$(port)", --bind, 127.0.0.1, --dir, "$(volumes.data)", --save, ""]';
  return `apiVersion: devopsmaestro.io/v1
kind: Runtime
metadata: {name: default}
spec:
  platform: ${runtime}
  socket: ${DOCKER}
  network: {name: host}
  mounts: [{hostPath: /usr, containerPath: /usr}, {hostPath: /lib, containerPath: /lib}, {hostPath: /lib64, containerPath: /lib64}, {hostPath: /etc, containerPath: /etc}]
---
apiVersion: devopsmaestro.io/v1
kind: Dependency
metadata: {name: hostpg}
spec:
  image: local/busybox:1
  user: "${pgUser}"
  command: ${pgCommand}
  process: {command: ${pgCommand}, user: postgres}
  ports: [{containerPort: 5432}]
  healthCheck: {command: [${pgBin}/pg_isready, -q, -h, 127.0.0.1, -p, "$(port)"], interval: 1s}
  volumes: [{name: data, mountPath: /data}]
---
apiVersion: devopsmaestro.io/v1
kind: Dependency
metadata: {name: hostredis}
spec:
  image: local/busybox:1
  command: ${redisCommand}
  process: {command: ${redisCommand}}
  ports: [{containerPort: 6379}]
  healthCheck: {command: [/usr/bin/redis-cli, -p, "$(port)", -e, ping], interval: 1s}
  volumes: [{name: data, mountPath: /data}]
---
apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: bench}
spec:
  dependencies:
    - {name: db, ref: hostpg, ports: [{containerPort: 5432, hostPort: ${pgPort}}]}
    - {name: cache, ref: hostredis, ports: [{containerPort: 6379, hostPort: ${redisPort}}]}
`;
}

/** Start-to-healthy of PostgreSQL and Redis through dvm on both runtimes vs the binary started directly. */
export async function depsBenchmarks(): Promise<Row[]> {
  const pgBin = expandBinPaths(['/usr/lib/postgresql/*/bin']).find((d) =>
    findExecutable(join(d, 'postgres')),
  );
  if (!pgBin || !findExecutable('/usr/bin/redis-server')) {
    console.error(
      '(dependency benchmark skipped: PostgreSQL or Redis binaries missing; run .ci/services.sh)',
    );
    return [];
  }
  const dockerUp = spawnSync('docker', ['-H', DOCKER, 'info'], { stdio: 'ignore' }).status === 0;
  const rows: Row[] = [];
  for (const runtime of dockerUp ? (['process', 'docker'] as const) : (['process'] as const)) {
    const home = freshDir(`deps-${runtime}`);
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const file = join(OUT, `deps-${runtime}.yaml`);
    writeFileSync(file, definitions(pgBin, pgPort, redisPort, runtime));
    dvm(home, ['apply', '-f', file]);
    // Initialise the PostgreSQL data directory once (not measured), owned by postgres when running as root.
    const data = join(home, 'volumes', 'bench-db', 'data');
    mkdirSync(data, { recursive: true, mode: 0o700 });
    const ids = process.getuid?.() === 0 ? lookupUser('postgres') : undefined;
    if (ids) {
      for (const dir of [home, join(home, 'volumes'), join(home, 'volumes', 'bench-db')])
        spawnSync('chmod', ['o+x', dir]);
      chownSync(data, ids.uid, ids.gid);
    }
    const init = spawnSync(join(pgBin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust'], {
      ...(ids ?? {}),
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`initdb: ${init.stderr}`);
    for (const [name, instance, argv, probe, user] of [
      [
        'PostgreSQL',
        'db',
        [
          join(pgBin, 'postgres'),
          '-D',
          data,
          '-p',
          String(pgPort),
          '-c',
          'listen_addresses=127.0.0.1',
          '-k',
          '',
        ],
        [join(pgBin, 'pg_isready'), '-q', '-h', '127.0.0.1', '-p', String(pgPort)],
        'postgres',
      ],
      [
        'Redis',
        'cache',
        ['/usr/bin/redis-server', '--port', String(redisPort), '--bind', '127.0.0.1', '--save', ''],
        ['/usr/bin/redis-cli', '-p', String(redisPort), '-e', 'ping'],
        undefined,
      ],
    ] as const) {
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = -1; i < RUNS; i++) {
        const t = dvm(home, ['start', 'dependency', instance, '-e', 'bench']);
        dvm(home, ['stop', 'dependency', instance, '-e', 'bench']);
        const d = await direct([...argv], [...probe], user);
        if (i >= 0) {
          ours.push(t);
          theirs.push(d);
        }
      }
      rows.push({
        name: `dvm start dependency → healthy, ${name}, ${runtime} runtime, vs the binary started directly`,
        subject: median(ours),
        baseline: median(theirs),
        unit: 'ms',
        note: `report only; dvm adds ${(median(ours) - median(theirs)).toFixed(0)} ms: CLI start-up, ${runtime === 'process' ? 'the supervisor process' : 'container create and start'}, probe spacing`,
      });
    }
    dvm(home, ['down', '-e', 'bench']);
  }
  return rows;
}
