import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DvmError } from '../../errors/dvm-error.ts';
import { createDockerRuntime } from '../../runtime/docker/docker-runtime.ts';
import { createProcessRuntime } from '../../runtime/process/process-runtime.ts';
import { resourceLimits } from '../../runtime/resource-limits.ts';
import type { Runtime, RuntimeName } from '../../runtime/types.ts';
import type { Platform } from '../platform.ts';
import { homeKey } from './instances.ts';
import type { DepsContext } from './lifecycle.ts';

type Spec = Record<string, unknown>;

const RUNTIMES: RuntimeName[] = ['process', 'docker'];
const DOCKER_LIKE = new Set(['docker', 'podman', 'orbstack', 'colima']);

/** Checks a --runtime value. */
export function parseRuntimeName(value: string | undefined): RuntimeName | undefined {
  if (value === undefined) return undefined;
  if ((RUNTIMES as string[]).includes(value)) return value as RuntimeName;
  if (DOCKER_LIKE.has(value)) return 'docker';
  throw new DvmError('DVM_USAGE', `--runtime ${value} is not one of ${RUNTIMES.join(', ')}`, {
    fix: 'Use --runtime process (host binaries) or --runtime docker (Docker Engine API; Podman too).',
  });
}

/**
 * The runtimes of a platform: `process` under DVM_HOME/instances, and `docker` configured by the Runtime object
 * named `default` (socket, network, mounts) when there is one. The default runtime is --runtime, else
 * DVM_RUNTIME, else the `default` Runtime's platform, else process (no Docker needed).
 */
export async function depsContext(
  platform: Platform,
  options: { runtime?: string; log?: (line: string) => void } = {},
): Promise<DepsContext> {
  const [runtimeObject] = await platform.store.list({ kinds: ['Runtime'], name: 'default' });
  const spec = (runtimeObject?.effective.spec ?? {}) as Spec;
  const platformName = typeof spec.platform === 'string' ? spec.platform : undefined;
  const defaultRuntime =
    parseRuntimeName(options.runtime) ??
    parseRuntimeName(process.env.DVM_RUNTIME || undefined) ??
    (platformName === 'process' || platformName === undefined
      ? 'process'
      : platformName === 'kubernetes'
        ? 'process'
        : 'docker');
  const cache = new Map<RuntimeName, Runtime>();
  const make = (name: RuntimeName): Runtime => {
    if (name === 'process') return createProcessRuntime({ root: join(platform.home, 'instances') });
    const socket = typeof spec.socket === 'string' ? spec.socket : undefined;
    const network = (spec.network as Spec | undefined)?.name;
    const driver = (spec.network as Spec | undefined)?.driver;
    const resources = spec.resources as { maxMemory?: unknown; maxCPU?: unknown } | undefined;
    const ceiling = resources
      ? resourceLimits({ memory: resources.maxMemory, cpu: resources.maxCPU })
      : undefined;
    // A CPU ceiling at or above the host's cores limits nothing (and Docker refuses more CPUs than there are).
    if (ceiling?.nanoCpus && ceiling.nanoCpus >= availableParallelism() * 1e9) delete ceiling.nanoCpus;
    return createDockerRuntime({
      ...(ceiling ? { ceiling } : {}),
      homeKey: homeKey(platform.home),
      ...(socket ? { host: socket.includes('://') ? socket : `unix://${socket}` } : {}),
      ...(typeof network === 'string' ? { network } : {}),
      ...(typeof driver === 'string' ? { networkDriver: driver } : {}),
      ...(Array.isArray(spec.mounts)
        ? { mounts: spec.mounts as { hostPath: string; containerPath: string }[] }
        : {}),
    });
  };
  return {
    home: platform.home,
    defaultRuntime,
    runtime: (name) => {
      let runtime = cache.get(name);
      if (!runtime) {
        runtime = make(name);
        cache.set(name, runtime);
      }
      return runtime;
    },
    ...(options.log ? { log: options.log } : {}),
  };
}
