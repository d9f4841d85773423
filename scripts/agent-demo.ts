// The ops agent's demo (`npm run demo:agent`; seed 001's "logs, restart and scale" scenario), in a fresh DVM_HOME
// under the repo: tokens for two operators, a viewer and an auditor, the two-person rule for prod, `dvm serve`; then,
// through the real API: health and the catalog, a viewer's write refused, a container's logs, its restart in stage
// (confirmed) and in prod (approved by a second operator), a deployment scaled in Kubernetes, and the audit of it
// all, verified; with java, a JVM's status and a thread dump that finds its deadlock. Docker steps need a reachable daemon (DOCKER_HOST) and an image (DEMO_IMAGE, default busybox:1.36,
// pulled if missing); the Kubernetes steps need a kubeconfig (KUBECONFIG) with a deployment (DEMO_K8S_DEPLOYMENT,
// default web, in DEMO_K8S_NAMESPACE, default default). What is missing is skipped with a message saying so.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { dockerClient } from '../src/actions/builtin/docker/connection.ts';

const root = new URL('../', import.meta.url).pathname;
const home = process.env.DEMO_HOME ?? join(root, '.dvm-agent-demo');
const bin = join(root, 'bin', 'dvm.js');
const image = process.env.DEMO_IMAGE ?? 'busybox:1.36';
const container = 'dvm-demo-web';
const deployment = process.env.DEMO_K8S_DEPLOYMENT ?? 'web';
const namespace = process.env.DEMO_K8S_NAMESPACE ?? 'default';

interface Step {
  status: number;
  stdout: string;
  stderr: string;
}

// Runs dvm as `who` (a token, or in-process without one), printing the command and what it printed.
function dvm(
  who: string | undefined,
  args: string[],
  options: { mayFail?: boolean; server?: string; secretStdout?: boolean; quiet?: boolean } = {},
): Step {
  process.stdout.write(`\n$ ${who ? `[${who}] ` : ''}dvm ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: {
      ...process.env,
      DVM_HOME: home,
      ...(who ? { DVM_SERVER: options.server ?? server, DVM_TOKEN: tokens[who] } : {}),
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A token is the demo's to keep: shown by its id only. A quiet step's stdout is the demo's to show.
  if (options.secretStdout) process.stdout.write(`${result.stdout.slice(0, 13)}… (kept by the demo)\n`);
  else if (!options.quiet) process.stdout.write(result.stdout);
  process.stdout.write(result.stderr);
  const step = { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
  if (step.status !== 0 && !options.mayFail)
    throw Object.assign(new Error(`dvm ${args.slice(0, 3).join(' ')} failed`), { status: step.status });
  return step;
}

function say(text: string): void {
  process.stdout.write(`\n# ${text}\n`);
}

// Starts `dvm serve` on a free port (its log in DVM_HOME/serve.log) and answers its URL once it listens.
async function startServe(): Promise<{ url: string; child: ChildProcess }> {
  const log = createWriteStream(join(home, 'serve.log'));
  const child = spawn(process.execPath, [bin, 'serve', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, DVM_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.pipe(log);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`dvm serve did not listen within 20 s:\n${out}`)),
      20_000,
    );
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      log.write(chunk);
      const match = /agent API listening on (https?:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dvm serve exited ${code}:\n${out}`));
    });
  });
  return { url, child };
}

// Creates the demo's container (an endless "hello N" printer), pulling its image when missing; undefined, with the
// reason printed, when Docker or the image cannot be had.
async function startContainer(): Promise<(() => Promise<void>) | undefined> {
  const docker = await dockerClient(process.env);
  try {
    await docker.ping();
  } catch (error) {
    say(
      `Docker is not reachable (${(error as Error).message}): skipping logs and restart. Start it, or set DOCKER_HOST.`,
    );
    return undefined;
  }
  await docker
    .getContainer(container)
    .remove({ force: true })
    .catch(() => {});
  try {
    await docker.getImage(image).inspect();
  } catch {
    say(`pulling ${image}`);
    try {
      const stream = await docker.pull(image);
      await new Promise((resolve, reject) =>
        docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(undefined))),
      );
    } catch (error) {
      say(
        `cannot pull ${image} (${(error as Error).message}): skipping logs and restart. Set DEMO_IMAGE to an image with sh.`,
      );
      return undefined;
    }
  }
  const created = await docker.createContainer({
    name: container,
    Image: image,
    // It ends on SIGTERM (a shell as pid 1 ignores it otherwise), so a restart takes a moment, not the grace period.
    Cmd: ['sh', '-c', 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "hello $i"; sleep 0.2; done'],
    HostConfig: { NetworkMode: 'none' },
  });
  await created.start();
  process.stdout.write(`\n(container ${container} from ${image} prints "hello N" five times a second)\n`);
  return async () => {
    await created.remove({ force: true }).catch(() => {});
  };
}

// Starts the demo's JVM (examples/agent-demo/DemoService.java: two threads deadlocked) and answers its pid and a
// stop function once it is ready; undefined, with the reason printed, without java. Its output goes to a file in
// DVM_HOME: the demo spends its time in spawnSync and would not read a pipe, and a JVM with a full stdout stalls.
async function startJvm(): Promise<{ pid: number; stop: () => void } | undefined> {
  const outPath = join(home, 'demo-jvm.out');
  const out = openSync(outPath, 'w');
  const java = spawn('java', ['-Xmx64m', join(root, 'examples', 'agent-demo', 'DemoService.java')], {
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let failed = false;
  java.once('error', () => (failed = true));
  java.once('exit', () => (failed = true));
  const deadline = Date.now() + 30_000;
  const printed = () => readFileSync(outPath, 'utf8');
  while (!failed && !printed().includes('ready') && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  if (!printed().includes('ready') || java.pid === undefined) {
    java.kill('SIGKILL');
    say(
      `no JVM could start (java on PATH? ${printed().trim().slice(0, 200) || 'no output'}): skipping the JVM steps.`,
    );
    return undefined;
  }
  return { pid: java.pid, stop: () => java.kill('SIGKILL') };
}

function kubeconfigPath(): string | undefined {
  const path = process.env.KUBECONFIG?.split(':')[0] || join(homedir(), '.kube', 'config');
  return existsSync(path) ? path : undefined;
}

const tokens: Record<string, string> = {};
let server = '';
let exitCode = 0;
let serve: ChildProcess | undefined;
let removeContainer: (() => Promise<void>) | undefined;
let stopJvm: (() => void) | undefined;

rmSync(home, { recursive: true, force: true });
mkdirSync(join(home, 'policies'), { recursive: true });
process.stdout.write(`DVM_HOME=${home} (fresh)\n`);
try {
  say('Tokens: two operators, a viewer and an auditor. Each is printed once and stored hashed.');
  for (const [name, role] of [
    ['alice', 'operator'],
    ['bob', 'operator'],
    ['viewer', 'viewer'],
    ['auditor', 'admin'],
  ])
    tokens[name] = dvm(undefined, ['token', 'create', '--name', name, '--role', role, '--ttl', '1d'], {
      secretStdout: true,
    }).stdout.trim();
  say('Policy: the default one, plus the two-person rule for prod (a second principal approves).');
  copyFileSync(
    join(root, 'examples', 'policies', 'two-person-prod.cedar'),
    join(home, 'policies', 'two-person-prod.cedar'),
  );
  dvm(undefined, [
    'policy',
    'test',
    '--principal',
    'role:operator',
    '--action',
    'docker.restart_container',
    '--target',
    'env=prod',
  ]);

  const started = await startServe();
  serve = started.child;
  server = started.url;
  say(`dvm serve: the agent API listens on ${server} (its log: ${join(home, 'serve.log')})`);
  process.stdout.write(`\n$ curl ${server}/v1/health\n`);
  process.stdout.write(`${JSON.stringify(await (await fetch(`${server}/v1/health`)).json(), null, 2)}\n`);
  dvm('viewer', ['action', 'list']);

  removeContainer = await startContainer();
  if (removeContainer) {
    say(
      'Logs: a read action, for any token. The summary goes to stderr; each line goes to the stream it came from, as docker logs prints them.',
    );
    await new Promise((resolve) => setTimeout(resolve, 1200));
    dvm('viewer', ['action', 'run', 'docker.logs', '--param', `container=${container}`, '--param', 'tail=3']);

    say('A viewer may not restart anything: 403 with the policy decision, audited.');
    dvm(
      'viewer',
      ['action', 'run', 'docker.restart_container', '--param', `container=${container}`, '--env', 'dev'],
      { mayFail: true },
    );

    say('Restart in stage: a write in stage needs confirmation (asked on a terminal; --yes for scripts).');
    const restart = ['action', 'run', 'docker.restart_container', '--param', `container=${container}`];
    dvm('alice', [...restart, '--env', 'stage', '--yes']);

    say('Restart in prod: the two-person rule. Alice asks; her own --yes is not enough.');
    const asked = dvm('alice', [...restart, '--env', 'prod', '--yes'], { mayFail: true });
    const challenge = /dvmc_[A-Za-z0-9_-]{43}/.exec(asked.stderr)?.[0];
    if (!challenge) throw new Error('no confirmation challenge in the answer');
    say('Bob lists what waits for a second principal (ids, never tokens) and approves it.');
    const waiting = JSON.parse(dvm('bob', ['action', 'approvals', '-o', 'json']).stdout) as {
      items: { id: string; requested_by: string }[];
    };
    const id = waiting.items.find((item) => item.requested_by === 'alice')?.id;
    if (!id) throw new Error("alice's request is not among the approvals");
    dvm('bob', ['action', 'approve', id.slice(0, 12), '--yes']);
    const approved = [...restart, '--env', 'prod', '--confirmation-token', challenge];
    say('Alice runs it again with her token: it runs once, approved by bob.');
    dvm('alice', [...approved, '--request-id', 'demo-prod-restart']);
    say(
      'Sent again with the same --request-id (a script retrying): the first answer, nothing restarts twice.',
    );
    dvm('alice', [...approved, '--request-id', 'demo-prod-restart']);
  }

  const jvm = await startJvm();
  if (jvm) {
    stopJvm = jvm.stop;
    say(
      `JVM diagnostics (jcmd) of a running service (pid ${jvm.pid}): its status by main class, then a thread dump.`,
    );
    dvm('viewer', ['action', 'run', 'jvm.status', '--param', 'mainClass=DemoService']);
    const dump = ['action', 'run', 'jvm.thread_dump', '--param', `pid=${jvm.pid}`, '-o', 'json'];
    const { summary } = JSON.parse(dvm('viewer', dump, { quiet: true }).stdout).result;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n(the raw dump is in the result's artifact)\n`);
  }

  if (kubeconfigPath()) {
    say(
      `Kubernetes (${kubeconfigPath()}): events, then scale ${namespace}/${deployment} in stage (confirmed).`,
    );
    dvm('alice', ['action', 'run', 'k8s.events', '--param', `namespace=${namespace}`]);
    const scale = [
      'action',
      'run',
      'k8s.scale_deployment',
      '--param',
      `namespace=${namespace}`,
      '--param',
      `deployment=${deployment}`,
      '--env',
      'stage',
      '--yes',
      '-o',
      'json',
    ];
    const before = JSON.parse(dvm('alice', [...scale, '--param', 'replicas=3']).stdout);
    dvm('alice', [...scale, '--param', `replicas=${before.result.previousReplicas}`]);
  } else {
    say('No kubeconfig (KUBECONFIG or ~/.kube/config): skipping the Kubernetes steps.');
  }

  say('The audit: every decision, hash-chained; verify detects any change to it.');
  dvm('auditor', ['audit', '--limit', '30']);
  dvm(undefined, ['audit', 'verify']);
} catch (error) {
  process.stderr.write(`\ndemo failed: ${(error as Error).message}\n`);
  exitCode = (error as { status?: number }).status ?? 1;
} finally {
  await removeContainer?.();
  stopJvm?.();
  if (serve && serve.exitCode === null) {
    const exited = new Promise((resolve) => serve?.once('exit', resolve));
    serve.kill('SIGTERM');
    await exited;
  }
}
process.exit(exitCode);
