import { probeOnce } from '../../runtime/health-probe.ts';
import { depsContext } from '../../service/deps/deps-context.ts';
import { findInstance } from '../../service/deps/instances.ts';
import { instanceStatus, readRecord } from '../../service/deps/lifecycle.ts';
import { appHealthCheck, findLiveApp } from '../../service/live/live-apps.ts';
import type { CommandContext } from '../command.ts';

/** `dvm status app|dependency NAME`: where it runs, whether it is healthy, how often it restarted. */
export async function printLiveStatus(
  ctx: CommandContext,
  what: 'app' | 'dependency',
  name: string,
): Promise<number> {
  const platform = await ctx.platform();
  const scope = await ctx.scope();
  const deps = await depsContext(platform);
  let view: Record<string, unknown>;
  if (what === 'dependency') {
    const instance = await findInstance(platform.store, platform.home, name, scope);
    const { record, state, healthy } = await instanceStatus(deps, instance);
    view = {
      kind: 'dependency',
      name,
      id: instance.id,
      scope: instance.scope,
      runtime: record?.runtime,
      state,
      healthy,
    };
  } else {
    const live = await findLiveApp(platform, name, scope);
    const record = readRecord(platform.home, live.id);
    const state = record ? await deps.runtime(record.runtime).inspect(live.id) : undefined;
    const check = appHealthCheck(live);
    const healthy =
      state?.status === 'running' && check ? (await probeOnce({ ...check, timeoutMs: 2000 })).ok : undefined;
    view = {
      kind: 'app',
      name,
      id: live.id,
      runtime: record?.runtime,
      state,
      healthy,
      dependencies: live.dependencies.map((d) => d.name),
    };
  }
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return 0;
  }
  const state = view.state as
    | { status?: string; pid?: number; containerId?: string; restarts?: number; startedAt?: string }
    | undefined;
  const lines = [
    `${what}/${name}`,
    `  runtime:   ${view.runtime ?? '-'}`,
    `  status:    ${state ? state.status : 'not deployed'}${view.healthy === true ? ' (healthy)' : view.healthy === false ? ' (unhealthy)' : ''}`,
    `  pid:       ${state?.pid ?? state?.containerId?.slice(0, 12) ?? '-'}`,
    `  restarts:  ${state?.restarts ?? 0}`,
    `  started:   ${state?.startedAt ?? '-'}`,
  ];
  if (Array.isArray(view.dependencies))
    lines.push(`  uses:      ${(view.dependencies as string[]).join(', ') || '-'}`);
  ctx.io.stdout.write(`${lines.join('\n')}\n`);
  return state?.status === 'running' && view.healthy !== false ? 0 : 1;
}
