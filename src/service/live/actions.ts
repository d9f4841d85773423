import type { ActionDefinition } from '../../actions/action.ts';
import { parseDuration } from '../../actions/builtin/duration.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import { waitHealthy } from '../../runtime/health-probe.ts';
import { depsContext } from '../deps/deps-context.ts';
import { findInstance, listInstances } from '../deps/instances.ts';
import { readRecord } from '../deps/lifecycle.ts';
import { healthCheckFor } from '../deps/service-spec.ts';
import { openPlatform, type Platform } from '../platform.ts';
import { chaosLatency } from './chaos-latency.ts';
import { deployApp } from './deploy.ts';
import { appHealthCheck, findLiveApp, liveAppsIn } from './live-apps.ts';

const SCOPE_PROPS = {
  ecosystem: { type: 'string', minLength: 1, description: 'Ecosystem (when the name is in several).' },
  domain: { type: 'string', minLength: 1, description: 'Domain of the app.' },
} as const;

const APP_INPUT = {
  type: 'object',
  additionalProperties: false,
  required: ['target'],
  properties: { target: { type: 'string', minLength: 1, description: 'The App to act on.' }, ...SCOPE_PROPS },
} as const;

const OUTPUT = { type: 'object', additionalProperties: true } as const;

type ScopeInput = { ecosystem?: string; domain?: string };
type AppInput = ScopeInput & { target: string };

function scopeOf(input: ScopeInput): Placement {
  return {
    ...(input.ecosystem ? { ecosystem: input.ecosystem } : {}),
    ...(input.domain ? { domain: input.domain } : {}),
  };
}

/** Splits `app/NAME` or `dependency/NAME` (a bare name is looked up among apps, then dependencies). */
function parseTarget(target: string): { kind?: 'app' | 'dependency'; name: string } {
  const [head, rest] = target.includes('/') ? target.split('/', 2) : [undefined, target];
  if (head === 'app' || head === 'dependency') return { kind: head, name: rest ?? '' };
  if (head === undefined) return { name: target };
  throw new DvmError('DVM_USAGE', `target "${target}" is not app/NAME or dependency/NAME`, {
    path: 'target',
    fix: 'Name the target as app/NAME or dependency/NAME.',
    details: { origin: 'user' },
  });
}

/** The service.* and chaos.* actions of a dvm home: live apps and dependency instances on their runtimes. */
export function liveActions(home: string): ActionDefinition[] {
  let platform: Promise<Platform> | undefined;
  const open = () => {
    platform ??= openPlatform(home);
    return platform;
  };
  const context = async () => {
    const p = await open();
    return { p, deps: await depsContext(p) };
  };

  const deploy: ActionDefinition<AppInput, Record<string, unknown>> = {
    name: 'service.deploy',
    version: '1.0.0',
    description:
      'Run an App in live mode: dependencies healthy first, deployed once its health check passes.',
    risk: 'write',
    timeouts: { defaultMs: 300_000, maxMs: 1_800_000 },
    inputSchema: APP_INPUT,
    outputSchema: OUTPUT,
    async handler(input) {
      const { p, deps } = await context();
      return { ...(await deployApp(deps, await findLiveApp(p, input.target, scopeOf(input)))) };
    },
  };

  const restart: ActionDefinition<AppInput, Record<string, unknown>> = {
    name: 'service.restart',
    version: '1.0.0',
    description: 'Restart a live App (its dependencies keep running) and wait until it is healthy again.',
    risk: 'write',
    timeouts: { defaultMs: 300_000, maxMs: 1_800_000 },
    inputSchema: APP_INPUT,
    outputSchema: OUTPUT,
    async handler(input) {
      const { p, deps } = await context();
      const live = await findLiveApp(p, input.target, scopeOf(input));
      const record = readRecord(deps.home, live.id);
      if (!record) {
        throw new DvmError('DVM_TARGET_NOT_FOUND', `app ${input.target} is not deployed`, {
          fix: `Deploy it first: dvm deploy app ${input.target}.`,
          details: { origin: 'user' },
        });
      }
      await deps.runtime(record.runtime).stop(live.id);
      return { ...(await deployApp(deps, live, { runtime: record.runtime })), restarted: true };
    },
  };

  const kill: ActionDefinition<
    { target?: string; ecosystem?: string; domain?: string; timeout?: string },
    Record<string, unknown>
  > = {
    name: 'chaos.kill',
    version: '1.0.0',
    description:
      'Kill an instance of a live app or dependency (named, or a random running one) as a crash would; waits for the restart policy to bring it back and reports the recovery time.',
    risk: 'destructive',
    timeouts: { defaultMs: 120_000, maxMs: 600_000 },
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        target: {
          type: 'string',
          minLength: 1,
          description: 'app/NAME or dependency/NAME; omitted: a random running one.',
        },
        ...SCOPE_PROPS,
        timeout: {
          type: 'string',
          pattern: '^[0-9]+(ms|s|m)$',
          description: 'How long to wait for the recovery (default 60s).',
        },
      },
    },
    outputSchema: OUTPUT,
    async handler(input, ctx) {
      const { p, deps } = await context();
      const scope = scopeOf(input);
      type Victim = {
        kind: 'app' | 'dependency';
        name: string;
        id: string;
        check: () => import('../../runtime/health-probe.ts').HealthCheck | undefined;
      };
      const candidates: Victim[] = [];
      const parsed = input.target ? parseTarget(input.target) : undefined;
      if (parsed?.kind !== 'dependency') {
        const apps = parsed
          ? [
              await findLiveApp(p, parsed.name, scope).catch((e) =>
                parsed.kind ? Promise.reject(e) : undefined,
              ),
            ]
          : await liveAppsIn(p, scope);
        for (const live of apps)
          if (live)
            candidates.push({
              kind: 'app',
              name: live.app.name,
              id: live.id,
              check: () => appHealthCheck(live),
            });
      }
      if (!parsed || (parsed.kind !== 'app' && candidates.length === 0)) {
        const instances = parsed
          ? [await findInstance(p.store, p.home, parsed.name, scope)]
          : await listInstances(p.store, p.home, scope);
        for (const instance of instances) {
          const record = readRecord(p.home, instance.id);
          candidates.push({
            kind: 'dependency',
            name: instance.name,
            id: instance.id,
            check: () => (record ? healthCheckFor(instance, record.runtime) : undefined),
          });
        }
      }
      const running = [];
      for (const c of candidates) {
        const record = readRecord(p.home, c.id);
        const state = record ? await deps.runtime(record.runtime).inspect(c.id) : undefined;
        if (record && state?.status === 'running') running.push({ ...c, runtime: record.runtime, state });
      }
      if (running.length === 0) {
        throw new DvmError(
          'DVM_TARGET_NOT_FOUND',
          `nothing to kill: ${input.target ?? 'no app or dependency'} is running`,
          {
            fix: 'Start a dependency (dvm start dependency NAME) or deploy an app first.',
            details: { origin: 'user' },
          },
        );
      }
      const victim = running[Math.floor(Math.random() * running.length)] ?? running[0];
      if (!victim) throw new DvmError('DVM_INTERNAL', 'no victim');
      const runtime = deps.runtime(victim.runtime);
      const killedAt = Date.now();
      await runtime.kill(victim.id);
      ctx.emit?.({
        type: 'progress',
        message: `killed ${victim.kind}/${victim.name} (pid ${victim.state.pid ?? victim.state.containerId})`,
      });
      const deadline = killedAt + parseDuration(input.timeout ?? '60s');
      for (;;) {
        const state = await runtime.inspect(victim.id);
        const back =
          state?.status === 'running' &&
          (state.pid !== victim.state.pid || (state.restarts ?? 0) > (victim.state.restarts ?? 0));
        if (back) break;
        if (Date.now() > deadline || ctx.signal.aborted) {
          throw new DvmError(
            'DVM_HEALTH_FAILED',
            `${victim.kind}/${victim.name} did not come back within ${input.timeout ?? '60s'} after the kill`,
            {
              fix: 'Check its restart policy (restart: always | on-failure) and its logs.',
              details: { origin: 'system' },
            },
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const check = victim.check();
      if (check)
        await waitHealthy(check, {
          signal: ctx.signal,
          runCommand: (argv, t) => runtime.exec(victim.id, argv, t),
        });
      const state = await runtime.inspect(victim.id);
      return {
        killed: `${victim.kind}/${victim.name}`,
        runtime: victim.runtime,
        killedPid: victim.state.pid,
        newPid: state?.pid,
        restarts: state?.restarts,
        recoveredInMs: Date.now() - killedAt,
      };
    },
  };

  const latency: ActionDefinition<Record<string, unknown>, Record<string, unknown>> = {
    name: 'chaos.latency',
    version: '1.0.0',
    description:
      'Put a TCP proxy with latency and jitter in front of a dependency and point the live apps that use it at the proxy; `off: true` (or the end of `duration`) puts them back.',
    risk: 'destructive',
    timeouts: { defaultMs: 600_000, maxMs: 3_600_000 },
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['target'],
      properties: {
        target: {
          type: 'string',
          minLength: 1,
          description: 'The dependency instance (NAME or dependency/NAME).',
        },
        ...SCOPE_PROPS,
        latency: {
          type: 'string',
          pattern: '^[0-9]+(ms|s)$',
          description: 'Added delay per direction, like 200ms.',
        },
        jitter: { type: 'string', pattern: '^[0-9]+(ms|s)$', description: 'Uniform jitter, like 50ms.' },
        duration: {
          type: 'string',
          pattern: '^[0-9]+(ms|s|m)$',
          description: 'Turn it off again after this long (the action waits).',
        },
        off: { type: 'boolean', description: 'Remove the proxy and restore the direct settings.' },
      },
    },
    outputSchema: OUTPUT,
    async handler(input, ctx) {
      const { p, deps } = await context();
      const name = parseTarget(String(input.target)).name;
      const instance = await findInstance(p.store, p.home, name, scopeOf(input as ScopeInput));
      return chaosLatency(p, deps, instance, {
        latencyMs: input.latency ? parseDuration(String(input.latency)) : 0,
        jitterMs: input.jitter ? parseDuration(String(input.jitter)) : 0,
        off: input.off === true,
        ...(input.duration ? { durationMs: parseDuration(String(input.duration)) } : {}),
        signal: ctx.signal,
      });
    },
  };

  return [deploy, restart, kill, latency] as ActionDefinition[];
}
