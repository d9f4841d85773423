import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { startFakeKubeApi } from '../fakes/kube-api-server.ts';
import { docker } from '../helpers/docker.ts';
import { REPO_ROOT, tempDir } from '../helpers/dvm.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';

// Runs `npm run demo:agent`'s script as a user would, with its output gathered.
function runDemo(env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'agent-demo.ts')], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', (status) => resolve({ status, output }));
  });
}

test('the agent demo runs end to end: logs and restarts on the real Docker engine, a real JVM diagnosed, scaling against a FAKE Kubernetes API server', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const jdk = async () => {
    execFileSync('jcmd', ['-h'], { stdio: 'ignore' });
    return true;
  };
  if (!(await requireService(t, 'A JDK (java, jcmd)', jdk, 'apt-get install default-jdk-headless'))) return;
  const kube = await startFakeKubeApi();
  kube.state.deployments['default/web'] = 2;
  kube.state.events.default = [
    {
      metadata: { name: 'web-1.BackOff' },
      involvedObject: { kind: 'Pod', name: 'web-1' },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      count: 3,
      lastTimestamp: '2026-11-30T12:00:00Z',
    },
  ];
  try {
    const home = join(tempDir('dvm-demo-'), 'home');
    const { status, output } = await runDemo({
      DEMO_HOME: home,
      DOCKER_HOST: TEST_DOCKER_HOST,
      DEMO_IMAGE: 'local/busybox:1',
      KUBECONFIG: kube.kubeconfig,
    });
    assert.equal(status, 0, output);
    // Logs, for a viewer.
    assert.match(output, /\[viewer\] dvm action run docker\.logs[^\n]*\n(hello \d+\n){3}/);
    // A viewer's restart is refused by policy.
    assert.match(output, /DVM_FORBIDDEN: policy denies this request: no policy permits role viewer/);
    // Stage: confirmed by --yes. Prod: refused to alice alone, approved by bob, run once, then replayed.
    assert.match(output, /docker\.restart_container@1\.0\.0 succeeded[\s\S]*needs a second principal/);
    assert.match(output, /approved docker\.restart_container@1\.0\.0 on env=prod for alice \(as bob\)/);
    assert.match(output, /request_id demo-prod-restart was sent before: this is the first request's answer/);
    // The JVM: found by its main class (run from source), its deadlock found.
    assert.match(output, /"mainClass": "DemoService"/);
    assert.match(output, /"name": "orders-writer",\s*"waitingFor": "\S+",\s*"heldBy": "billing-writer"/);
    // Kubernetes: the scale went to 3 and back to 2, through the real paths.
    const puts = kube.requests.filter((r) => r.method === 'PUT').map((r) => r.body);
    assert.deepEqual(
      puts.map((b) => (b as { spec: { replicas: number } }).spec.replicas),
      [3, 2],
    );
    assert.equal(kube.state.deployments['default/web'], 2);
    assert.deepEqual(kube.unexpected(), [], 'the fake got only requests it expects');
    assert.match(output, /"byReason": \{\s*"BackOff": 3/);
    // The audit of it all, verified.
    assert.match(output, /bob +docker\.restart_container \(approve\) +allowed +prod/);
    assert.match(output, /alice +k8s\.scale_deployment +executed +stage/);
    assert.match(output, /audit chain intact: \d+ entries/);
    // The demo's container is gone.
    assert.equal(docker('ps', '-a', '--filter', 'name=^dvm-demo-web$', '--format', '{{.Names}}'), '');
  } finally {
    await kube.close();
  }
});

test('without Docker or a kubeconfig the agent demo says what it skips and still runs the rest', async () => {
  const home = join(tempDir('dvm-demo-'), 'home');
  const { status, output } = await runDemo({
    DEMO_HOME: home,
    DOCKER_HOST: 'unix:///nonexistent/dvm-demo.sock',
    KUBECONFIG: '/nonexistent/kubeconfig',
    HOME: home,
  });
  assert.equal(status, 0, output);
  assert.match(
    output,
    /Docker is not reachable .*: skipping logs and restart\. Start it, or set DOCKER_HOST\./,
  );
  assert.match(output, /No kubeconfig \(KUBECONFIG or ~\/\.kube\/config\): skipping the Kubernetes steps\./);
  assert.match(output, /audit chain intact: \d+ entries/);
  assert.doesNotMatch(output, /dvm_[0-9a-f]{8}_[A-Za-z0-9_-]{43}/, 'no token is printed whole');
});
