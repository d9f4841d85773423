import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { parseDuration } from '../../actions/builtin/duration.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import type { HealthCheck } from '../../runtime/health-probe.ts';
import { resourceLimits } from '../../runtime/resource-limits.ts';
import type { RuntimeName, ServiceSpec } from '../../runtime/types.ts';
import type { StoredObject } from '../../store/store.ts';
import { scopesUp } from '../data/lookup.ts';
import { type DependencyInstance, envMap, findInstance } from '../deps/instances.ts';
import { resolveBinary, substitute } from '../deps/service-spec.ts';
import type { Platform } from '../platform.ts';
import { connectionEnv } from './connection-env.ts';

type Spec = Record<string, unknown>;

/** An App as live mode sees it: its id, the dependency instances it uses, its spec. */
export interface LiveApp {
  id: string;
  app: StoredObject;
  label: string;
  dependencies: DependencyInstance[];
}

/** The id of an App's live instance: app-ECO-DOMAIN-NAME. */
export function liveAppId(app: StoredObject): string {
  return ['app', app.placement.ecosystem, app.placement.domain, app.name].filter(Boolean).join('-');
}

/** Finds an App for live mode by name from a scope, with the dependency instances it uses. */
export async function findLiveApp(platform: Platform, name: string, scope: Placement): Promise<LiveApp> {
  const placement: Placement = {};
  if (scope.ecosystem) placement.ecosystem = scope.ecosystem;
  if (scope.domain) placement.domain = scope.domain;
  const found = await platform.store.list({ kinds: ['App'], name, placement });
  if (found.length !== 1 || !found[0]) {
    throw new DvmError(
      found.length ? 'DVM_AMBIGUOUS' : 'DVM_NOT_FOUND',
      found.length ? `app "${name}" is in ${found.length} domains` : `no app "${name}"`,
      {
        fix: 'Pick the scope with -e/-d, or run `dvm get apps -A`.',
      },
    );
  }
  return liveAppOf(platform, found[0]);
}

/** The live view of a stored App. */
export async function liveAppOf(platform: Platform, app: StoredObject): Promise<LiveApp> {
  const spec = (app.effective.spec ?? {}) as Spec;
  const from: Placement = { ...app.placement, app: app.name };
  const dependencies: DependencyInstance[] = [];
  for (const entry of (spec.dependencies ?? []) as Spec[]) {
    const name = String(entry.name ?? entry.ref);
    dependencies.push(await findInstance(platform.store, platform.home, name, from));
  }
  return { id: liveAppId(app), app, label: `App/${app.name}`, dependencies };
}

/** Every App in a scope that says how to run in live mode. */
export async function liveAppsIn(platform: Platform, scope: Placement): Promise<LiveApp[]> {
  const placement: Placement = {};
  if (scope.ecosystem) placement.ecosystem = scope.ecosystem;
  if (scope.domain) placement.domain = scope.domain;
  const apps = await platform.store.list({ kinds: ['App'], placement });
  const out: LiveApp[] = [];
  for (const app of apps) if ((app.effective.spec as Spec)?.live) out.push(await liveAppOf(platform, app));
  return out;
}

function appPath(app: StoredObject): string | undefined {
  const path = (app.effective.spec as Spec)?.path;
  if (typeof path !== 'string') return undefined;
  return isAbsolute(path) ? path : resolve(path);
}

function hostPortOf(spec: Spec): number | undefined {
  const port = ((spec.ports ?? []) as { containerPort?: number; hostPort?: number }[])[0];
  return port?.hostPort ?? port?.containerPort;
}

/** The ServiceSpec of an App in live mode, with its dependencies' connection settings injected as env. */
export function appServiceSpec(
  live: LiveApp,
  runtime: RuntimeName,
  extraEnv: Record<string, string> = {},
  overrides: Record<string, { host: string; port: number }> = {},
): ServiceSpec {
  const spec = (live.app.effective.spec ?? {}) as Spec;
  const section = (spec.live ?? {}) as Spec;
  if (!Array.isArray(section.command) && !(runtime === 'docker' && section.image)) {
    throw new DvmError('DVM_RUNTIME_SPEC', `${live.label} does not say how to run in live mode`, {
      path: 'spec.live.command',
      object: live.label,
      fix: 'Add spec.live.command (argv), like ["node", "index.js"], and spec.ports for its port.',
    });
  }
  const port = hostPortOf(spec);
  const values = { port: port ?? 0, ports: {}, env: envMap(spec.env), volumes: {} };
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...(port ? { PORT: String(port) } : {}),
    ...connectionEnv(live.dependencies, overrides),
    ...envMap(spec.env),
    ...extraEnv,
  };
  const argv = substitute((section.command ?? []) as string[], values, live.label);
  const resources = spec.resources as { memory?: string; cpu?: string } | undefined;
  const base = {
    id: live.id,
    owner: live.label,
    argv: runtime === 'process' ? resolveBinary(argv, env.PATH) : argv,
    ...(typeof section.image === 'string' ? { image: section.image } : {}),
    env,
    ports: port ? [{ containerPort: port, hostPort: port }] : [],
    volumes: [],
    ...(appPath(live.app) && runtime === 'process' ? { workdir: appPath(live.app) } : {}),
    restart: ((section.restart as ServiceSpec['restart']) ?? 'always') as ServiceSpec['restart'],
    ...(resources ? { resources: resourceLimits(resources) } : {}),
  };
  return { ...base, specHash: createHash('sha256').update(JSON.stringify(base)).digest('hex').slice(0, 16) };
}

/** The App's health check: HTTP path on its port, a command, else its port accepting TCP. */
export function appHealthCheck(live: LiveApp): HealthCheck | undefined {
  const spec = (live.app.effective.spec ?? {}) as Spec;
  const check = (spec.healthCheck ?? {}) as Spec;
  const port = (check.port as number | undefined) ?? hostPortOf(spec);
  const timing = {
    intervalMs: check.interval ? parseDuration(String(check.interval)) : 1000,
    timeoutMs: check.timeout ? parseDuration(String(check.timeout)) : 3000,
    retries: typeof check.retries === 'number' ? check.retries : 3,
    startPeriodMs: 30_000,
  };
  if (Array.isArray(check.command)) return { ...timing, command: check.command as string[] };
  if (typeof check.path === 'string' && port)
    return { ...timing, http: { url: `http://127.0.0.1:${port}${check.path}` } };
  if (port) return { ...timing, tcp: { host: '127.0.0.1', port } };
  return undefined;
}

/** Scopes above an App (for messages and `dvm down`). */
export async function appScopes(platform: Platform, app: StoredObject) {
  return scopesUp(platform.store, { ...app.placement, app: app.name });
}
