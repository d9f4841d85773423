// Dependencies on the docker runtime, selected by the Runtime named default: a real container (an imported
// busybox image running the host's redis-server from read-only host mounts), health-gated start, data kept in
// the volume across a restart, logs, crash recovery by Docker's restart policy, and `dvm down` removing it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { findExecutable } from '../../src/runtime/process/process-runtime.ts';
import { dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';
import { freePort } from '../support/services.ts';

function platform(port: number, runtimeResources = ''): string {
  return `apiVersion: devopsmaestro.io/v1
kind: Runtime
metadata: {name: default}
spec:
  platform: docker${runtimeResources}
  socket: ${TEST_DOCKER_HOST}
  network: {name: host}
  mounts:
    - {hostPath: /usr, containerPath: /usr}
    - {hostPath: /lib, containerPath: /lib}
    - {hostPath: /lib64, containerPath: /lib64}
    - {hostPath: /etc, containerPath: /etc}
---
apiVersion: devopsmaestro.io/v1
kind: Dependency
metadata: {name: hostredis}
spec:
  image: local/busybox:1
  command: [/usr/bin/redis-server, --port, "$(port)", --bind, 127.0.0.1, --dir, "$(volumes.data)", --appendonly, "yes"]
  process:
    command: [redis-server, --port, "$(port)", --bind, 127.0.0.1, --dir, "$(volumes.data)", --appendonly, "yes"]
  ports: [{containerPort: 6379}]
  healthCheck: {command: [/usr/bin/redis-cli, -p, "$(port)", -e, ping], interval: 200ms}
  volumes: [{name: data, mountPath: /data}]
---
apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: dk}
spec:
  dependencies:
    - {name: cache, ref: hostredis, ports: [{containerPort: 6379, hostPort: ${port}}]}
`;
}

// Both tests run host binaries inside the imported busybox image: they need the Docker engine and redis-server.
async function requireDockerAndRedis(t: TestContext): Promise<boolean> {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh')))
    return false;
  return requireService(
    t,
    'redis-server',
    async () => !!findExecutable('/usr/bin/redis-server'),
    'bash scripts/services/redis.sh',
  );
}

test('a dependency on the docker runtime: healthy start, data across restart, logs, crash recovery, down', {
  timeout: 180_000,
}, async (t) => {
  if (!(await requireDockerAndRedis(t))) return;
  const home = tempHome();
  const port = await freePort();
  const file = join(home, 'p.yaml');
  writeFileSync(file, platform(port));
  dvmOk(home, ['apply', '-f', file]);
  const { createClient } = await import('redis');
  const redis = async () => {
    const client = createClient({ url: `redis://127.0.0.1:${port}` });
    await client.connect();
    return client;
  };
  try {
    const [started] = JSON.parse(
      dvmOk(home, ['start', 'dependency', 'cache', '-e', 'dk', '-o', 'json']).stdout,
    );
    assert.equal(started.runtime, 'docker');
    assert.equal(started.status, 'running');
    const elsewhere = dvm(home, ['start', 'dependency', 'cache', '-e', 'dk', '--runtime', 'process']);
    assert.equal(elsewhere.status, 1);
    assert.match(elsewhere.stderr, /DVM_RUNTIME_START.*runs on the docker runtime/);
    let client = await redis();
    await client.set('kept', 'across restarts');
    await client.quit();

    const status = () =>
      JSON.parse(dvmOk(home, ['status', 'dependency', 'cache', '-e', 'dk', '-o', 'json']).stdout);
    const before = status();
    assert.equal(before.runtime, 'docker');
    assert.match(before.state.containerId, /^[0-9a-f]{64}$/);
    assert.equal(before.healthy, true);

    dvmOk(home, ['restart', 'dependency', 'cache', '-e', 'dk']);
    client = await redis();
    assert.equal(await client.get('kept'), 'across restarts', 'the volume kept the data');
    await client.quit();
    assert.match(
      dvmOk(home, ['logs', 'dependency', 'cache', '-e', 'dk']).stdout,
      /Ready to accept connections/,
    );
    assert.match(
      dvmOk(home, ['get', 'dependencies', '-e', 'dk']).stdout,
      /cache\s+Ecosystem\/dk\s+hostredis\s+docker\s+Healthy/,
    );

    const killed = JSON.parse(
      dvmOk(home, [
        'action',
        'run',
        'chaos.kill',
        '--param',
        'target=dependency/cache',
        '--param',
        'ecosystem=dk',
        '-o',
        'json',
      ]).stdout,
    ).result;
    assert.equal(killed.runtime, 'docker');
    assert.ok(killed.restarts >= 1, 'Docker restarted the container after the crash');

    const down = JSON.parse(dvmOk(home, ['down', '-e', 'dk', '-o', 'json']).stdout);
    assert.deepEqual(down.dependencies, ['cache']);
    assert.deepEqual(down.leftovers, []);
    const { default: Docker } = await import('dockerode');
    const docker = new Docker({ socketPath: TEST_DOCKER_HOST.replace('unix://', '') });
    const left = await docker.listContainers({
      all: true,
      filters: { label: ['io.devopsmaestro.instance=dk-cache'] },
    });
    assert.deepEqual(
      left.filter((c) => c.Names.some((n) => n.includes('dk-cache'))).length,
      0,
      'no container left',
    );
  } finally {
    await dvmAsync(home, ['down', '-e', 'dk']);
  }
});

test('an App in live mode on the docker runtime: healthy over HTTP, resources become container limits (capped by the Runtime), undeploy removes it', {
  timeout: 120_000,
}, async (t) => {
  if (!(await requireDockerAndRedis(t))) return;
  if (
    !(await requireService(
      t,
      'python3 in /usr/bin',
      async () => !!findExecutable('/usr/bin/python3'),
      'apt-get install python3',
    ))
  )
    return;
  const home = tempHome();
  const [redisPort, appPort] = [await freePort(), await freePort()];
  const file = join(home, 'p.yaml');
  writeFileSync(
    file,
    `${platform(redisPort, '\n  resources: {maxMemory: 48Mi, maxCPU: "4"}')}---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: web, ecosystem: dk}
---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: static-site, ecosystem: dk, domain: web}
spec:
  ports: [{containerPort: ${appPort}}]
  healthCheck: {path: /, interval: 200ms}
  resources: {memory: 64Mi, cpu: 500m}
  dependencies: [{ref: cache}]
  live:
    image: local/busybox:1
    command: [/usr/bin/python3, -m, http.server, "$(port)", --bind, 127.0.0.1]
`,
  );
  dvmOk(home, ['apply', '-f', file]);
  try {
    const result = JSON.parse(dvmOk(home, ['deploy', 'app', 'static-site', '-e', 'dk', '-o', 'json']).stdout);
    assert.equal(result.runtime, 'docker');
    assert.deepEqual(result.dependencies, ['cache']);
    assert.equal((await fetch(`http://127.0.0.1:${appPort}/`)).status, 200);
    const { default: Docker } = await import('dockerode');
    const docker = new Docker({ socketPath: TEST_DOCKER_HOST.replace('unix://', '') });
    const info = await docker.getContainer(result.state.containerId).inspect();
    assert.equal(info.HostConfig.Memory, 48 * 1024 * 1024, "the Runtime's maxMemory caps the app's 64Mi");
    assert.equal(info.HostConfig.NanoCpus, 500_000_000);
    assert.ok(info.Config.Env?.includes(`CACHE_PORT=${redisPort}`), 'the dependency settings are injected');
    assert.match(dvmOk(home, ['status', 'app', 'static-site', '-e', 'dk']).stdout, /running \(healthy\)/);
    dvmOk(home, ['undeploy', 'app', 'static-site', '-e', 'dk']);
    await assert.rejects(docker.getContainer(result.state.containerId).inspect(), /no such container/i);
  } finally {
    await dvmAsync(home, ['down', '-e', 'dk']);
  }
});
