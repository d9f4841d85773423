import type { Placement } from '../../model/api.ts';
import { waitHealthy } from '../../runtime/health-probe.ts';
import type { InstanceState, RuntimeName } from '../../runtime/types.ts';
import { listInstances } from '../deps/instances.ts';
import {
  type DepsContext,
  forgetRecord,
  readRecord,
  removeInstance,
  runtimeOf,
  startInstance,
  writeRecord,
} from '../deps/lifecycle.ts';
import type { Platform } from '../platform.ts';
import { chaosOverrides } from './chaos-latency.ts';
import { appHealthCheck, appServiceSpec, type LiveApp, liveAppsIn } from './live-apps.ts';

/** The outcome of deploying one App. */
export interface DeployResult {
  app: string;
  runtime: RuntimeName;
  state: InstanceState;
  dependencies: string[];
  startToHealthyMs: number;
}

/**
 * Runs an App in live mode: starts (or adopts) the dependency instances it uses and waits until each is
 * healthy, then starts the App with their connection settings in its environment, and resolves once the App's
 * own health check passes.
 */
export async function deployApp(
  ctx: DepsContext,
  live: LiveApp,
  options: { runtime?: RuntimeName; extraEnv?: Record<string, string> } = {},
): Promise<DeployResult> {
  await Promise.all(live.dependencies.map((instance) => startInstance(ctx, instance)));
  const runtimeName = options.runtime ?? readRecord(ctx.home, live.id)?.runtime ?? ctx.defaultRuntime;
  const runtime = ctx.runtime(runtimeName);
  const spec = appServiceSpec(
    live,
    runtimeName,
    options.extraEnv,
    chaosOverrides(ctx.home, live.dependencies),
  );
  const began = Date.now();
  const previous = readRecord(ctx.home, live.id);
  writeRecord(ctx.home, live.id, { ...previous, runtime: runtimeName, kind: 'app' });
  const state = await runtime.start(spec);
  const check = appHealthCheck(live);
  if (check) {
    await waitHealthy(check, { runCommand: (argv, timeoutMs) => runtime.exec(live.id, argv, timeoutMs) });
  }
  const startToHealthyMs = Date.now() - began;
  writeRecord(ctx.home, live.id, {
    runtime: runtimeName,
    kind: 'app',
    healthyAt: new Date().toISOString(),
    startToHealthyMs,
  });
  ctx.log?.(
    `${live.app.name}: deployed on ${runtimeName}, healthy after ${(startToHealthyMs / 1000).toFixed(1)}s`,
  );
  return {
    app: live.app.name,
    runtime: runtimeName,
    state: (await runtime.inspect(live.id)) ?? state,
    dependencies: live.dependencies.map((d) => d.name),
    startToHealthyMs,
  };
}

/** Stops an App's live instance and forgets it; its dependencies keep running. */
export async function undeployApp(ctx: DepsContext, live: LiveApp): Promise<boolean> {
  const previous = readRecord(ctx.home, live.id);
  if (!previous) return false;
  await ctx.runtime(previous.runtime).remove(live.id);
  forgetRecord(ctx.home, live.id);
  ctx.log?.(`${live.app.name}: undeployed`);
  return true;
}

/** What `dvm down` stopped, and anything of the scope a runtime still runs afterwards (should be nothing). */
export interface DownResult {
  apps: string[];
  dependencies: string[];
  /** Latency proxies, and with -A instances the store no longer names. */
  removed: string[];
  leftovers: string[];
}

/**
 * Stops everything of a scope in reverse dependency order: live apps first, then dependency instances from the
 * innermost scope (app) out to the ecosystem; then asks every runtime in use for what is left of the scope.
 */
export async function down(platform: Platform, ctx: DepsContext, scope: Placement): Promise<DownResult> {
  const apps = await liveAppsIn(platform, scope);
  const undeployed: string[] = [];
  await Promise.all(
    apps.map(async (live) => {
      if (await undeployApp(ctx, live)) undeployed.push(live.app.name);
    }),
  );
  const instances = await listInstances(platform.store, platform.home, scope);
  const byDepth = new Map<number, typeof instances>();
  for (const instance of instances) {
    const depth = instance.placement.app ? 2 : instance.placement.domain ? 1 : 0;
    byDepth.set(depth, [...(byDepth.get(depth) ?? []), instance]);
  }
  const stopped: string[] = [];
  for (const depth of [2, 1, 0]) {
    await Promise.all(
      (byDepth.get(depth) ?? []).map(async (instance) => {
        if (!readRecord(ctx.home, instance.id)) return;
        await removeInstance(ctx, instance);
        forgetRecord(ctx.home, instance.id);
        stopped.push(instance.name);
        ctx.log?.(`${instance.name}: stopped and removed (volumes kept)`);
      }),
    );
  }
  // Latency proxies of the scope's instances go too; `down -A` also removes what the store no longer names
  // (instances of a deleted ecosystem, say): everything the runtimes run for this home is ours.
  const everything = !scope.ecosystem && !scope.domain && !scope.app;
  const ours = new Set([
    ...apps.map((a) => a.id),
    ...instances.map((i) => i.id),
    ...instances.map((i) => `chaos-latency-${i.id}`),
  ]);
  const used = new Set<RuntimeName>([
    ctx.defaultRuntime,
    'process',
    ...instances.map((i) => runtimeOf(ctx, i)),
  ]);
  if (everything) used.add('docker');
  const orphans: string[] = [];
  for (const name of used) {
    const runtime = ctx.runtime(name);
    for (const state of await runtime.list().catch(() => [])) {
      const extra = state.id.startsWith('chaos-latency-')
        ? ours.has(state.id)
        : everything && !ours.has(state.id);
      if (!extra) continue;
      await runtime.remove(state.id);
      // The record of what it was (a proxy's record is its chaos state), and any latency chaos on it.
      forgetRecord(ctx.home, state.id);
      if (!state.id.startsWith('chaos-latency-')) forgetRecord(ctx.home, `chaos-latency-${state.id}`);
      orphans.push(`${name}:${state.id}`);
      ctx.log?.(
        `${state.id}: stopped and removed (${state.id.startsWith('chaos-') ? 'latency proxy' : 'no longer in the store'})`,
      );
    }
  }
  const leftovers: string[] = [];
  for (const name of used) {
    for (const state of await ctx
      .runtime(name)
      .list()
      .catch(() => [])) {
      const mine = ours.has(state.id) || everything;
      if (mine && (state.status === 'running' || state.status === 'restarting'))
        leftovers.push(`${name}:${state.id}`);
    }
  }
  return { apps: undeployed, dependencies: stopped, removed: orphans, leftovers };
}
