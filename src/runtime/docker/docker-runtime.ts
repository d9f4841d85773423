import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { dockerClient, dockerError } from '../../actions/builtin/docker/connection.ts';
import { LogDemuxer } from '../../actions/builtin/docker/frames.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import { assertPortFree } from '../port-holder.ts';
import { type ResourceLimits, tighter } from '../resource-limits.ts';
import type { InstanceState, LogOptions, Runtime, ServiceSpec } from '../types.ts';

const LABEL_HOME = 'io.devopsmaestro.home';
const LABEL_ID = 'io.devopsmaestro.instance';
const LABEL_HASH = 'io.devopsmaestro.spec-hash';

// Podman's transient answer for a container whose process is exiting.
function isExitRace(error: unknown): boolean {
  const e = error as { statusCode?: number; json?: { message?: string }; message?: string };
  return e.statusCode === 500 && /no such process/.test(e.json?.message ?? e.message ?? '');
}

/** Options of the docker runtime. */
export interface DockerRuntimeOptions {
  /** Names this dvm home: containers carry it as a label, and their names start with it. */
  homeKey: string;
  /** DOCKER_HOST-style address (unix:// or tcp://); Podman's compatible socket works too. */
  host?: string;
  /** Network mode: `host` (default) or a network name (ports are then published). */
  network?: string;
  /** Driver of the network when dvm creates it (default bridge). */
  networkDriver?: string;
  /** The Runtime's own resources: no container gets more memory or CPU than these. */
  ceiling?: ResourceLimits;
  /** Host paths bound read-only into every container (for images that run host binaries). */
  mounts?: { hostPath: string; containerPath: string; readOnly?: boolean }[];
}

/** The docker runtime: each service is a container labelled with this home and its instance id. */
export function createDockerRuntime(options: DockerRuntimeOptions): Runtime {
  const env = { DOCKER_HOST: options.host ?? process.env.DOCKER_HOST };
  const network = options.network ?? 'host';
  let client: Promise<Dockerode> | undefined;
  const docker = () => {
    client ??= dockerClient(env);
    return client;
  };
  const containerName = (id: string) => `dvm-${options.homeKey}-${id}`;
  const wrap = (error: unknown, id: string) => {
    const e = error as { statusCode?: number; json?: { message?: string }; message?: string };
    // A refused configuration (400) or a name clash (409) is about the service, not an unreachable daemon.
    if (e?.statusCode === 400 || e?.statusCode === 409) {
      return new DvmError(
        'DVM_RUNTIME_START',
        `Docker refused the container of ${id}: ${e.json?.message ?? e.message}`,
        {
          fix: 'Fix the definition (image, command, user, resources, network) or the Runtime settings it names.',
          details: { origin: 'user', status: e.statusCode },
        },
      );
    }
    return dockerError(error, containerName(id), env);
  };

  async function find(id: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await (await docker()).getContainer(containerName(id)).inspect();
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        // Podman answers 500 "read /proc/PID/cgroup: no such process" while a container's process exits (a
        // crash being restarted): the state is a moment away, so ask again.
        if (attempt < 5 && isExitRace(error)) {
          await sleep(50 * attempt);
          continue;
        }
        throw wrap(error, id);
      }
    }
  }

  function view(info: Dockerode.ContainerInspectInfo): InstanceState {
    const s = info.State;
    // Docker does not tell a `docker stop` from a crash: a container that ended is `exited` either way.
    const status = s.Running
      ? 'running'
      : s.Restarting
        ? 'restarting'
        : s.Status === 'exited'
          ? 'exited'
          : 'stopped';
    return {
      id: info.Config.Labels?.[LABEL_ID] ?? info.Name,
      runtime: 'docker',
      status,
      containerId: info.Id,
      ...(s.Running && s.Pid ? { pid: s.Pid } : {}),
      startedAt: s.StartedAt,
      ...(s.Running ? {} : { exitCode: s.ExitCode }),
      restarts: info.RestartCount ?? 0,
      specHash: info.Config.Labels?.[LABEL_HASH],
    };
  }

  async function ensureImage(spec: ServiceSpec): Promise<void> {
    const d = await docker();
    try {
      await d.getImage(spec.image ?? '').inspect();
      return;
    } catch {}
    try {
      const stream = await d.pull(spec.image ?? '');
      await new Promise((resolve, reject) =>
        d.modem.followProgress(stream, (e) => (e ? reject(e) : resolve(undefined))),
      );
    } catch (error) {
      throw new DvmError(
        'DVM_IMAGE_UNAVAILABLE',
        `${spec.owner}: image ${spec.image} is not on this Docker engine and could not be pulled: ${(error as Error).message}`,
        {
          path: 'image',
          fix: 'Pull or import the image (docker pull / docker import), or use the process runtime.',
        },
      );
    }
  }

  // A named network (like the seed's dvm-network) is created on first use, labelled as dvm's.
  async function ensureNetwork(): Promise<void> {
    if (['host', 'none', 'bridge', 'default'].includes(network)) return;
    const d = await docker();
    try {
      await d.getNetwork(network).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      await d.createNetwork({
        Name: network,
        Driver: options.networkDriver ?? 'bridge',
        Labels: { [LABEL_HOME]: options.homeKey },
      });
    }
  }

  async function create(spec: ServiceSpec): Promise<Dockerode.Container> {
    if (!spec.image) {
      throw new DvmError('DVM_RUNTIME_SPEC', `${spec.owner} has no image for the docker runtime`, {
        path: 'image',
        fix: 'Give the definition an image, or use the process runtime.',
      });
    }
    await ensureImage(spec);
    await ensureNetwork();
    const host = network === 'host';
    const limits = tighter(spec.resources, options.ceiling);
    const binds = [
      ...spec.volumes.map((v) => `${v.hostPath}:${v.mountPath}`),
      ...(options.mounts ?? []).map(
        (m) => `${m.hostPath}:${m.containerPath}${m.readOnly === false ? '' : ':ro'}`,
      ),
    ];
    const exposed = Object.fromEntries(spec.ports.map((p) => [`${p.containerPort}/tcp`, {}]));
    const bindings = Object.fromEntries(
      spec.ports.map((p) => [
        `${p.containerPort}/tcp`,
        [{ HostIp: '127.0.0.1', HostPort: String(p.hostPort) }],
      ]),
    );
    return (await docker()).createContainer({
      name: containerName(spec.id),
      Image: spec.image,
      ...(spec.argv.length ? { Cmd: spec.argv } : {}),
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workdir ? { WorkingDir: spec.workdir } : {}),
      Labels: { [LABEL_HOME]: options.homeKey, [LABEL_ID]: spec.id, [LABEL_HASH]: spec.specHash },
      ...(host ? {} : { ExposedPorts: exposed }),
      HostConfig: {
        NetworkMode: network,
        Binds: binds,
        ...(host ? {} : { PortBindings: bindings }),
        RestartPolicy: {
          Name: spec.restart === 'no' ? '' : spec.restart === 'always' ? 'unless-stopped' : 'on-failure',
        },
        ...(limits?.memoryBytes ? { Memory: limits.memoryBytes } : {}),
        ...(limits?.nanoCpus ? { NanoCpus: limits.nanoCpus } : {}),
      },
    });
  }

  const runtime: Runtime = {
    name: 'docker',

    async start(spec) {
      const existing = await find(spec.id);
      if (existing && existing.Config.Labels?.[LABEL_HASH] === spec.specHash) {
        if (existing.State.Running || existing.State.Restarting) return view(existing);
      }
      if (existing) await runtime.remove(spec.id);
      for (const port of spec.ports) await assertPortFree(port.hostPort, spec.owner);
      try {
        const container = await create(spec);
        await container.start();
        return view(await container.inspect());
      } catch (error) {
        throw wrap(error, spec.id);
      }
    },

    async stop(id, opts) {
      const info = await find(id);
      if (!info || (!info.State.Running && !info.State.Restarting)) return;
      try {
        await (await docker()).getContainer(info.Id).stop({ t: Math.ceil((opts?.graceMs ?? 10_000) / 1000) });
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 304) throw wrap(error, id);
      }
    },

    async remove(id) {
      const info = await find(id);
      if (!info) return;
      await runtime.stop(id, { graceMs: 5_000 });
      try {
        await (await docker()).getContainer(info.Id).remove({ force: true });
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw wrap(error, id);
      }
    },

    async inspect(id) {
      const info = await find(id);
      return info ? view(info) : undefined;
    },

    async list() {
      const d = await docker();
      const found = await d.listContainers({
        all: true,
        filters: { label: [`${LABEL_HOME}=${options.homeKey}`] },
      });
      const out: InstanceState[] = [];
      for (const c of found) out.push(view(await d.getContainer(c.Id).inspect()));
      return out;
    },

    async exec(id, argv, timeoutMs) {
      const d = await docker();
      const exec = await d
        .getContainer(containerName(id))
        .exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const ended = new Promise((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', resolve);
        stream.resume();
      });
      const timer = new Promise((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
      if ((await Promise.race([ended, timer])) === 'timeout') {
        stream.destroy();
        return 124;
      }
      const info = await exec.inspect();
      return info.ExitCode ?? 1;
    },

    async *logs(id, opts?: LogOptions) {
      const info = await find(id);
      if (!info) return;
      const container = (await docker()).getContainer(info.Id);
      const demux = new LogDemuxer(!!info.Config.Tty);
      const base = { stdout: true, stderr: true, ...(opts?.tail !== undefined ? { tail: opts.tail } : {}) };
      if (!opts?.follow) {
        const buffer = (await container.logs({ ...base, follow: false })) as unknown as Buffer;
        for (const l of demux.push(buffer)) yield l.line;
        for (const l of demux.end()) yield l.line;
        return;
      }
      const stream = (await container.logs({ ...base, follow: true })) as NodeJS.ReadableStream & {
        destroy(): void;
      };
      const onAbort = () => stream.destroy();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const chunk of stream) for (const l of demux.push(chunk as Buffer)) yield l.line;
      } catch {
        // destroyed on abort
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    },

    async kill(id) {
      const info = await find(id);
      if (!info?.State.Running) return;
      // Kill the container's main process from the host, as a crash would: `docker kill` would count as a
      // manual stop and switch the restart policy off.
      try {
        if (info.State.Pid) process.kill(info.State.Pid, 'SIGKILL');
      } catch {
        await (await docker()).getContainer(info.Id).kill({ signal: 'SIGKILL' });
      }
    },
  };
  return runtime;
}
