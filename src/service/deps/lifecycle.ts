import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DvmError } from '../../errors/dvm-error.ts';
import { waitHealthy } from '../../runtime/health-probe.ts';
import { withInstanceLock } from '../../runtime/process/instance-lock.ts';
import { readJson, writeJsonAtomic } from '../../runtime/process/state-files.ts';
import type { InstanceState, Runtime, RuntimeName } from '../../runtime/types.ts';
import { prepareVolumes, runSteps } from './instance-setup.ts';
import type { DependencyInstance } from './instances.ts';
import { healthCheckFor, serviceSpec } from './service-spec.ts';

type Spec = Record<string, unknown>;

/** What the dependency lifecycle needs: the dvm home and a runtime by name. */
export interface DepsContext {
  home: string;
  runtime: (name: RuntimeName) => Runtime;
  /** The runtime to use for an instance not started yet. */
  defaultRuntime: RuntimeName;
  /** Progress lines (`platform-db: healthy after 1.2s`). */
  log?: (line: string) => void;
}

/** What dvm remembers about an instance besides the runtime's state: which runtime runs it, setup done. */
export interface InstanceRecord {
  runtime: RuntimeName;
  setupDone?: boolean;
  startedAt?: string;
  healthyAt?: string;
  /** Milliseconds from `start` to healthy, last time. */
  startToHealthyMs?: number;
  /** `app` for an App in live mode (a dependency instance has none). */
  kind?: 'app';
}

const recordPath = (home: string, id: string) => join(home, 'deps', `${id}.json`);

/** The record of an instance, or undefined when dvm never started it. */
export function readRecord(home: string, id: string): InstanceRecord | undefined {
  return readJson<InstanceRecord>(recordPath(home, id));
}

/** Saves the record of an instance or live app. */
export function writeRecord(home: string, id: string, record: InstanceRecord): void {
  mkdirSync(join(home, 'deps'), { recursive: true });
  writeJsonAtomic(recordPath(home, id), record);
}

/** Forgets an instance or live app (its record); the runtime's own state is removed separately. */
export function forgetRecord(home: string, id: string): void {
  rmSync(recordPath(home, id), { force: true });
}

/** The runtime an instance runs on: the one that started it, else the given or default one. */
export function runtimeOf(ctx: DepsContext, instance: DependencyInstance, wanted?: RuntimeName): RuntimeName {
  return wanted ?? readRecord(ctx.home, instance.id)?.runtime ?? ctx.defaultRuntime;
}

/** The result of starting one instance. */
export interface StartResult {
  instance: DependencyInstance;
  runtime: RuntimeName;
  state: InstanceState;
  /** True when it was running already and was adopted as is. */
  adopted: boolean;
  startToHealthyMs: number;
}

/**
 * Starts an instance (or adopts the running one) and resolves only once its health check passes. Two dvm
 * processes starting the same instance are serialised (a lock file per instance): one starts it, the other adopts.
 */
export function startInstance(
  ctx: DepsContext,
  instance: DependencyInstance,
  options: { runtime?: RuntimeName; signal?: AbortSignal } = {},
): Promise<StartResult> {
  const owner = `dependency ${instance.name} (${instance.scope})`;
  return withInstanceLock(join(ctx.home, 'deps', `${instance.id}.lock`), owner, () =>
    startUnlocked(ctx, instance, options),
  );
}

async function startUnlocked(
  ctx: DepsContext,
  instance: DependencyInstance,
  options: { runtime?: RuntimeName; signal?: AbortSignal },
): Promise<StartResult> {
  const previous = readRecord(ctx.home, instance.id);
  const runtimeName = options.runtime ?? previous?.runtime ?? ctx.defaultRuntime;
  if (previous && previous.runtime !== runtimeName) {
    const there = await ctx.runtime(previous.runtime).inspect(instance.id);
    if (there?.status === 'running' || there?.status === 'restarting') {
      throw new DvmError(
        'DVM_RUNTIME_START',
        `dependency ${instance.name} (${instance.scope}) runs on the ${previous.runtime} runtime`,
        {
          fix: `Stop it first (dvm stop dependency ${instance.name}), then start it with --runtime ${runtimeName}.`,
        },
      );
    }
  }
  const runtime = ctx.runtime(runtimeName);
  const record: InstanceRecord = { ...(previous ?? {}), runtime: runtimeName };
  const spec = serviceSpec(instance, runtimeName);
  const began = Date.now();
  const before = await runtime.inspect(instance.id);
  const adopted = before?.status === 'running' && before.specHash === spec.specHash;
  if (!adopted) {
    const processSection = (instance.definition.process ?? {}) as Spec;
    const empty = prepareVolumes(
      ctx.home,
      instance,
      runtimeName === 'process' ? (processSection.user as string) : (instance.definition.user as string),
    );
    const init = (processSection.init ?? []) as string[][];
    if (runtimeName === 'process' && empty && init.length) {
      record.setupDone = false;
      try {
        await runSteps(ctx, instance, init, 'init');
      } catch (error) {
        // The volume was empty before: leave it empty, so the next start runs init again.
        const first = instance.volumes[0]?.hostPath;
        if (first)
          for (const entry of readdirSync(first))
            rmSync(join(first, entry), { recursive: true, force: true });
        throw error;
      }
    }
  }
  writeRecord(ctx.home, instance.id, record);
  const state = await runtime.start(spec);
  const check = healthCheckFor(instance, runtimeName);
  if (check) {
    await waitHealthy(check, {
      runCommand: (argv, timeoutMs) => runtime.exec(instance.id, argv, timeoutMs),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } else {
    // Nothing to probe: ready if it is still running a moment after the start.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await runtime.inspect(instance.id);
    if (now?.status !== 'running') {
      throw new DvmError(
        'DVM_HEALTH_FAILED',
        `dependency ${instance.name} (${instance.scope}) exited right after it started (exit ${now?.exitCode ?? '?'})`,
        {
          fix: `See dvm logs dependency ${instance.name}.`,
        },
      );
    }
  }
  const setup = ((instance.definition.process as Spec | undefined)?.setup ?? []) as string[][];
  if (runtimeName === 'process' && setup.length && !record.setupDone)
    await runSteps(ctx, instance, setup, 'setup');
  const startToHealthyMs = Date.now() - began;
  writeRecord(ctx.home, instance.id, {
    ...record,
    setupDone: true,
    startedAt: state.startedAt,
    healthyAt: new Date().toISOString(),
    ...(adopted ? {} : { startToHealthyMs }),
  });
  ctx.log?.(
    `${instance.name}: ${adopted ? 'already running (adopted)' : `healthy after ${(startToHealthyMs / 1000).toFixed(1)}s`} on ${runtimeName}`,
  );
  return {
    instance,
    runtime: runtimeName,
    state: (await runtime.inspect(instance.id)) ?? state,
    adopted,
    startToHealthyMs,
  };
}

/** Stops an instance; its volumes and logs stay. */
export async function stopInstance(ctx: DepsContext, instance: DependencyInstance): Promise<void> {
  const record = readRecord(ctx.home, instance.id);
  if (!record) return;
  await ctx.runtime(record.runtime).stop(instance.id);
  ctx.log?.(`${instance.name}: stopped`);
}

/** Stops an instance and forgets it (process state, container); volumes stay. */
export async function removeInstance(ctx: DepsContext, instance: DependencyInstance): Promise<void> {
  const record = readRecord(ctx.home, instance.id);
  if (!record) return;
  await ctx.runtime(record.runtime).remove(instance.id);
}

/** Live status of an instance: the runtime's state and one health probe. */
export async function instanceStatus(ctx: DepsContext, instance: DependencyInstance) {
  const record = readRecord(ctx.home, instance.id);
  if (!record) return { record, state: undefined, healthy: undefined };
  const runtime = ctx.runtime(record.runtime);
  const state = await runtime.inspect(instance.id);
  let healthy: boolean | undefined;
  if (state?.status === 'running') {
    const { probeOnce } = await import('../../runtime/health-probe.ts');
    const check = healthCheckFor(instance, record.runtime);
    if (!check) return { record, state, healthy: true };
    healthy = (
      await probeOnce(
        { ...check, timeoutMs: Math.min(check.timeoutMs, 2000) },
        {
          runCommand: (argv, t) => runtime.exec(instance.id, argv, t),
        },
      )
    ).ok;
  }
  return { record, state, healthy };
}
