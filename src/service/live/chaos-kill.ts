import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import { type HealthCheck, waitHealthy } from '../../runtime/health-probe.ts';
import type { InstanceState, RuntimeName } from '../../runtime/types.ts';
import { findInstance, listInstances } from '../deps/instances.ts';
import { type DepsContext, readRecord } from '../deps/lifecycle.ts';
import { healthCheckFor } from '../deps/service-spec.ts';
import type { Platform } from '../platform.ts';
import { appHealthCheck, findLiveApp, liveAppsIn } from './live-apps.ts';

/** Something chaos.kill may kill: a live app or a dependency instance, with its health check on a runtime. */
interface Candidate {
  kind: 'app' | 'dependency';
  name: string;
  id: string;
  placement: Placement;
  check: (runtime: RuntimeName) => HealthCheck | undefined;
}

/** Splits `app/NAME` or `dependency/NAME` (a bare name is looked up among apps, then dependencies). */
export function parseTarget(target: string): { kind?: 'app' | 'dependency'; name: string } {
  const [head, rest] = target.includes('/') ? target.split('/', 2) : [undefined, target];
  if (head === 'app' || head === 'dependency') return { kind: head, name: rest ?? '' };
  if (head === undefined) return { name: target };
  throw new DvmError('DVM_USAGE', `target "${target}" is not app/NAME or dependency/NAME`, {
    path: 'target',
    fix: 'Name the target as app/NAME or dependency/NAME.',
    details: { origin: 'user' },
  });
}

// The named target, or (without one) every live app and dependency instance of the scope.
async function candidates(p: Platform, target: string | undefined, scope: Placement): Promise<Candidate[]> {
  const parsed = target ? parseTarget(target) : undefined;
  const apps =
    parsed?.kind === 'dependency'
      ? []
      : parsed
        ? await findLiveApp(p, parsed.name, scope).then(
            (live) => [live],
            (error) => {
              if (parsed.kind === 'app') throw error;
              return [];
            },
          )
        : await liveAppsIn(p, scope);
  const out: Candidate[] = apps.map((live) => ({
    kind: 'app',
    name: live.app.name,
    id: live.id,
    placement: live.app.placement,
    check: () => appHealthCheck(live),
  }));
  if (parsed?.kind === 'app' || (parsed && out.length > 0)) return out;
  const instances = parsed
    ? [await findInstance(p.store, p.home, parsed.name, scope)]
    : await listInstances(p.store, p.home, scope);
  for (const instance of instances) {
    out.push({
      kind: 'dependency',
      name: instance.name,
      id: instance.id,
      placement: instance.placement,
      check: (runtime) => healthCheckFor(instance, runtime),
    });
  }
  return out;
}

// Why a candidate is no kill target: its state as the runtime reports it, or that it was never started.
function describeStopped(state: InstanceState | undefined): string {
  if (!state) return 'not started';
  const exit = state.exitCode === undefined ? '' : `, last exit code ${state.exitCode}`;
  return `${state.status} (${state.restarts} restarts${exit})`;
}

// The candidates of a kill that run now (with their runtime's state), and why each other one is no target.
async function runningCandidates(
  p: Platform,
  deps: DepsContext,
  target: string | undefined,
  scope: Placement,
) {
  const running = [];
  const notRunning: string[] = [];
  for (const candidate of await candidates(p, target, scope)) {
    const record = readRecord(p.home, candidate.id);
    const state = record ? await deps.runtime(record.runtime).inspect(candidate.id) : undefined;
    if (record && state?.status === 'running') running.push({ ...candidate, runtime: record.runtime, state });
    else notRunning.push(`${candidate.kind}/${candidate.name} is ${describeStopped(state)}`);
  }
  return { running, notRunning };
}

/**
 * What a kill of `target` (none: a random running one of `scope`) would kill, named in one form — `app/NAME` or
 * `dependency/NAME` and the ecosystem and domain it is in — so that policies decide on it before it is killed (the
 * random pick is made here, not after the decision; by `seed` when given); undefined when nothing of that name runs.
 */
export async function killTarget(
  p: Platform,
  deps: DepsContext,
  target: string | undefined,
  scope: Placement,
  seed?: string,
): Promise<{ target: string; ecosystem?: string; domain?: string } | undefined> {
  const form = (candidate: Candidate) => ({
    target: `${candidate.kind}/${candidate.name}`,
    ...(candidate.placement.ecosystem ? { ecosystem: candidate.placement.ecosystem } : {}),
    ...(candidate.placement.domain ? { domain: candidate.placement.domain } : {}),
  });
  // A named one in its one form, running or not (it may start before the kill); none by that name: as sent, and
  // the kill fails the same way. A bad target (DVM_USAGE) or several by that name (DVM_AMBIGUOUS) are thrown.
  if (target !== undefined) {
    let named: Candidate[];
    try {
      named = await candidates(p, target, scope);
    } catch (error) {
      if ((error as DvmError).code === 'DVM_NOT_FOUND') return undefined;
      throw error;
    }
    return named.length === 1 && named[0] ? form(named[0]) : undefined;
  }
  const { running } = await runningCandidates(p, deps, target, scope);
  // With a seed (the request), the same request picks the same one: its confirmed resend kills what was confirmed.
  running.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const pick =
    seed === undefined ? Math.random() : createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
  const victim = running[Math.floor(pick * running.length)];
  return victim ? form(victim) : undefined;
}

/**
 * Kills a running app or dependency instance (the named one, else a random one of the scope) as a crash would,
 * waits until its restart policy has it running and healthy again, and reports the recovery time.
 */
export async function chaosKill(
  p: Platform,
  deps: DepsContext,
  options: {
    target?: string;
    scope: Placement;
    timeoutMs: number;
    signal: AbortSignal;
    progress?: (message: string) => void;
  },
): Promise<Record<string, unknown>> {
  const { running, notRunning } = await runningCandidates(p, deps, options.target, options.scope);
  const victim = running[Math.floor(Math.random() * running.length)];
  if (!victim) {
    throw new DvmError(
      'DVM_TARGET_NOT_FOUND',
      `nothing to kill: ${notRunning.length > 0 ? notRunning.join('; ') : 'no app or dependency is running'}`,
      {
        fix: 'Start a dependency (dvm start dependency NAME) or deploy an app first.',
        details: { origin: 'user' },
      },
    );
  }
  const runtime = deps.runtime(victim.runtime);
  const killedAt = Date.now();
  await runtime.kill(victim.id);
  options.progress?.(
    `killed ${victim.kind}/${victim.name} (pid ${victim.state.pid ?? victim.state.containerId})`,
  );
  for (;;) {
    const state = await runtime.inspect(victim.id);
    const restarted = state?.pid !== victim.state.pid || (state?.restarts ?? 0) > victim.state.restarts;
    if (state?.status === 'running' && restarted) break;
    if (Date.now() - killedAt > options.timeoutMs || options.signal.aborted) {
      throw new DvmError(
        'DVM_HEALTH_FAILED',
        `${victim.kind}/${victim.name} did not come back within ${options.timeoutMs} ms after the kill`,
        {
          fix: 'Check its restart policy (restart: always | on-failure) and its logs.',
          details: { origin: 'system' },
        },
      );
    }
    await sleep(50);
  }
  const check = victim.check(victim.runtime);
  if (check) {
    await waitHealthy(check, {
      signal: options.signal,
      runCommand: (argv, t) => runtime.exec(victim.id, argv, t),
    });
  }
  const state = await runtime.inspect(victim.id);
  return {
    killed: `${victim.kind}/${victim.name}`,
    runtime: victim.runtime,
    killedPid: victim.state.pid,
    newPid: state?.pid,
    restarts: state?.restarts,
    recoveredInMs: Date.now() - killedAt,
  };
}
