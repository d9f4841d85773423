import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DvmError } from '../../errors/dvm-error.ts';
import { followFile } from '../log-follow.ts';
import { assertPortFree } from '../port-holder.ts';
import type { InstanceState, LogOptions, Runtime, ServiceSpec } from '../types.ts';
import { withInstanceLock } from './instance-lock.ts';
import { isAlive, signalGroup } from './proc.ts';
import { instancePaths, type ProcessState, readJson, writeJsonAtomic, writeSpec } from './state-files.ts';

const SUPERVISOR = fileURLToPath(new URL('./supervisor.ts', import.meta.url));

/** Options of the process runtime. */
export interface ProcessRuntimeOptions {
  /** Directory holding one subdirectory per instance (`<DVM_HOME>/instances`). */
  root: string;
  /** Grace period between SIGTERM and SIGKILL when stopping. */
  graceMs?: number;
}

/** Finds an executable: a path as given, else the first match on PATH. */
export function findExecutable(command: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = command.includes('/') ? [command] : path.split(delimiter).map((d) => join(d, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return undefined;
}

/** The process runtime: each service is a host process in its own group, watched by a detached supervisor. */
export function createProcessRuntime(options: ProcessRuntimeOptions): Runtime {
  const { root } = options;
  const graceMs = options.graceMs ?? 10_000;
  const read = (id: string) => readJson<ProcessState>(instancePaths(root, id).state);
  const supervised = (s: ProcessState) => isAlive(s.supervisorPid, s.supervisorStart);
  const serviceAlive = (s: ProcessState) => isAlive(s.pid, s.pidStart);

  function launchSupervisor(id: string, adopt?: number): void {
    const paths = instancePaths(root, id);
    const args = [SUPERVISOR, paths.dir, ...(adopt ? ['--adopt', String(adopt)] : [])];
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, DVM_STOP_GRACE_MS: String(graceMs) },
    });
    child.unref();
  }

  async function waitFor(
    id: string,
    test: (s: ProcessState | undefined) => boolean,
    ms: number,
  ): Promise<ProcessState | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const state = read(id);
      if (test(state) || Date.now() > deadline) return state;
      await sleep(20);
    }
  }

  function view(state: ProcessState): InstanceState {
    const alive = serviceAlive(state);
    let status = state.status;
    if (status === 'running' && !alive) status = 'exited';
    if (status === 'restarting' && !supervised(state)) status = 'exited';
    const { pidStart: _p, supervisorPid: _s, supervisorStart: _t, error: _e, ...rest } = state;
    return { ...rest, status, ...(alive ? {} : { pid: undefined }) };
  }

  function checkLaunchable(spec: ServiceSpec): void {
    const [command] = spec.argv;
    if (!command) {
      throw new DvmError('DVM_RUNTIME_SPEC', `${spec.owner} has no command to run on the process runtime`, {
        fix: 'Give the definition a process.command (argv), or choose the docker runtime.',
      });
    }
    const found = findExecutable(command, spec.env.PATH ?? process.env.PATH);
    if (!found) {
      throw new DvmError(
        'DVM_BINARY_NOT_FOUND',
        `${spec.owner}: "${command}" is not installed (not found on PATH)`,
        {
          path: 'process.command',
          fix: `Install it (on Debian: apt-get install the package that has ${command}), or set process.binPaths, or use the docker runtime.`,
        },
      );
    }
    if (spec.workdir && !existsSync(spec.workdir)) {
      throw new DvmError('DVM_WORKDIR_NOT_FOUND', `${spec.owner}: workdir ${spec.workdir} does not exist`, {
        fix: 'Fix the path, or create the directory.',
      });
    }
  }

  async function startLocked(spec: ServiceSpec): Promise<InstanceState> {
    const current = read(spec.id);
    if (current && serviceAlive(current)) {
      if (current.specHash === spec.specHash) {
        if (!supervised(current)) launchSupervisor(spec.id, current.pid);
        return view(read(spec.id) ?? current);
      }
      await stopLocked(spec.id);
    } else if (current && supervised(current) && current.status === 'restarting') {
      if (current.specHash === spec.specHash) return view(current);
      await stopLocked(spec.id);
    }
    checkLaunchable(spec);
    for (const port of spec.ports) await assertPortFree(port.hostPort, spec.owner);
    for (const volume of spec.volumes) mkdirSync(volume.hostPath, { recursive: true });
    writeSpec(root, spec);
    const marker = `${Date.now()}-${Math.random()}`;
    writeJsonAtomic(instancePaths(root, spec.id).state, {
      id: spec.id,
      runtime: 'process',
      status: 'stopped',
      restarts: 0,
      marker,
    });
    launchSupervisor(spec.id);
    const state = await waitFor(
      spec.id,
      (s) => !!s && !('marker' in s) && (s.pid !== undefined || s.status !== 'running'),
      10_000,
    );
    if (!state || 'marker' in state) {
      throw new DvmError('DVM_RUNTIME_START', `${spec.owner}: the supervisor did not start within 10s`, {
        fix: `See ${instancePaths(root, spec.id).supervisorLog} and retry.`,
      });
    }
    if (state.error) {
      throw new DvmError('DVM_RUNTIME_START', `${spec.owner} failed to start: ${state.error}`, {
        fix: 'Check the command and its workdir.',
      });
    }
    return view(state);
  }

  async function stopLocked(id: string, opts?: { graceMs?: number }): Promise<void> {
    const state = read(id);
    if (!state) return;
    const grace = opts?.graceMs ?? graceMs;
    if (supervised(state) && state.supervisorPid) {
      process.kill(state.supervisorPid, 'SIGTERM');
      const done = await waitFor(
        id,
        (s) => !s || !isAlive(s.supervisorPid, s.supervisorStart),
        grace + 5_000,
      );
      if (done && serviceAlive(done) && done.pid) signalGroup(done.pid, 'SIGKILL');
    } else if (serviceAlive(state) && state.pid) {
      signalGroup(state.pid, 'SIGTERM');
      const deadline = Date.now() + grace;
      while (serviceAlive(state) && Date.now() < deadline) await sleep(50);
      if (serviceAlive(state)) signalGroup(state.pid, 'SIGKILL');
    }
    const after = read(id) ?? state;
    writeJsonAtomic(instancePaths(root, id).state, { ...after, status: 'stopped', pid: undefined });
  }

  const runtime: Runtime = {
    name: 'process',

    start(spec) {
      return withInstanceLock(`${instancePaths(root, spec.id).dir}.lock`, spec.owner, () =>
        startLocked(spec),
      );
    },

    async stop(id, opts) {
      return withInstanceLock(`${instancePaths(root, id).dir}.lock`, id, () => stopLocked(id, opts));
    },

    async remove(id) {
      await runtime.stop(id);
      rmSync(instancePaths(root, id).dir, { recursive: true, force: true });
    },

    async inspect(id) {
      const state = read(id);
      return state ? view(state) : undefined;
    },

    async list() {
      if (!existsSync(root)) return [];
      const out: InstanceState[] = [];
      for (const id of readdirSync(root)) {
        const state = read(id);
        if (state) out.push(view(state));
      }
      return out;
    },

    exec(id, argv, timeoutMs) {
      const spec = readJson<ServiceSpec>(instancePaths(root, id).spec);
      return new Promise((resolve) => {
        execFile(
          argv[0] ?? '',
          argv.slice(1),
          { env: spec?.env ?? process.env, timeout: timeoutMs, killSignal: 'SIGKILL' },
          (error) => {
            if (!error) return resolve(0);
            const code = (error as { code?: unknown }).code;
            resolve(typeof code === 'number' ? code : 127);
          },
        );
      });
    },

    logs(id, opts?: LogOptions) {
      return followFile(instancePaths(root, id).log, opts ?? {});
    },

    async kill(id) {
      const state = read(id);
      if (state?.pid && serviceAlive(state)) signalGroup(state.pid, 'SIGKILL');
    },
  };
  return runtime;
}
