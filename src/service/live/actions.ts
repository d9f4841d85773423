import type { ActionContext, ActionDefinition } from '../../actions/action.ts';
import { parseDuration } from '../../actions/builtin/duration.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import type { RuntimeName } from '../../runtime/types.ts';
import { depsContext } from '../deps/deps-context.ts';
import { findInstance, instanceForm } from '../deps/instances.ts';
import { readRecord } from '../deps/lifecycle.ts';
import { openPlatform, type Platform } from '../platform.ts';
import { chaosKill, killTarget, parseTarget } from './chaos-kill.ts';
import { chaosLatency } from './chaos-latency.ts';
import { deployApp } from './deploy.ts';
import { findLiveApp } from './live-apps.ts';

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

/** The service.* and chaos.* actions of a dvm home: live apps and dependency instances on their runtimes. */
export function liveActions(home: string): ActionDefinition[] {
  let platform: Promise<Platform> | undefined;
  const open = () => {
    platform ??= openPlatform(home);
    return platform;
  };
  // A handler's dependencies context; what it logs (an instance healthy, the app deployed) is the execution's progress.
  const context = async (ctx?: Pick<ActionContext, 'emit'>) => {
    const p = await open();
    const emit = ctx?.emit;
    return {
      p,
      deps: await depsContext(p, emit ? { log: (message) => emit({ type: 'progress', message }) } : {}),
    };
  };

  const deploy: ActionDefinition<AppInput & { runtime?: RuntimeName }, Record<string, unknown>> = {
    name: 'service.deploy',
    version: '1.0.0',
    description:
      'Run an App in live mode: dependencies healthy first, deployed once its health check passes.',
    risk: 'write',
    timeouts: { defaultMs: 300_000, maxMs: 1_800_000 },
    inputSchema: {
      ...APP_INPUT,
      properties: {
        ...APP_INPUT.properties,
        runtime: {
          type: 'string',
          enum: ['process', 'docker'],
          description: "Runtime of the App (default: the one it runs on, else the home's default).",
        },
      },
    },
    outputSchema: OUTPUT,
    async handler(input, ctx) {
      const { p, deps } = await context(ctx);
      const live = await findLiveApp(p, input.target, scopeOf(input));
      return { ...(await deployApp(deps, live, input.runtime ? { runtime: input.runtime } : {})) };
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
    async handler(input, ctx) {
      const { p, deps } = await context(ctx);
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
    // Decided on what it will kill: the target in one form (app/NAME or dependency/NAME, with its ecosystem and
    // domain), and without one the running instance picked at random now — a forbid on a target holds for a bare
    // name and for a random pick alike.
    async canonicalInput(input, ctx) {
      const { p, deps } = await context();
      const picked = await killTarget(p, deps, input.target, scopeOf(input), ctx.choiceSeed);
      return picked ? { ...input, ...picked } : undefined;
    },
    async handler(input, ctx) {
      const { p, deps } = await context();
      return chaosKill(p, deps, {
        ...(input.target ? { target: input.target } : {}),
        scope: scopeOf(input),
        timeoutMs: parseDuration(input.timeout ?? '60s'),
        signal: ctx.signal,
        progress: (message) => ctx.emit?.({ type: 'progress', message }),
      });
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
    // Decided on the instance in its one form (dependency/NAME with its scope), whichever way it was named.
    async canonicalInput(input) {
      const p = await open();
      const named = parseTarget(String(input.target));
      const form = await instanceForm(p.store, p.home, named.name, scopeOf(input as ScopeInput));
      if (!form) return undefined;
      const { ecosystem: _e, domain: _d, ...rest } = input;
      return { ...rest, ...form, target: `dependency/${form.target}` };
    },
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
