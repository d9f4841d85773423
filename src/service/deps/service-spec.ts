import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../../actions/builtin/duration.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { HealthCheck } from '../../runtime/health-probe.ts';
import { findExecutable } from '../../runtime/process/process-runtime.ts';
import type { RuntimeName, ServiceSpec } from '../../runtime/types.ts';
import { REFERENCE } from './argv-references.ts';
import type { DependencyInstance } from './instances.ts';

type Spec = Record<string, unknown>;

/** Values `$(…)` references in a definition's argv resolve to, for one instance on one runtime. */
export interface Substitutions {
  port: number;
  ports: Record<string, number>;
  env: Record<string, string>;
  volumes: Record<string, string>;
  /** `$(secret.NAME)`: a file (0600) holding env NAME, for flags like --pwfile; written on demand. */
  secretFile?: (name: string) => string;
}

// The value a reference stands for, or undefined when it names nothing.
function referenceValue(kind: string, key: string | undefined, values: Substitutions): string | undefined {
  if (kind === 'port') return key ? undefined : String(values.port);
  if (!key) return undefined;
  switch (kind) {
    case 'ports':
      return values.ports[key] === undefined ? undefined : String(values.ports[key]);
    case 'env':
      return values.env[key];
    case 'volumes':
      return values.volumes[key];
    case 'secret':
      return values.env[key] === undefined ? undefined : values.secretFile?.(key);
    default:
      return undefined;
  }
}

/** Replaces `$(port)`, `$(ports.N)`, `$(env.X)`, `$(volumes.V)` and `$(secret.X)` inside each argv element. */
export function substitute(argv: string[], values: Substitutions, owner: string): string[] {
  return argv.map((arg) =>
    arg.replace(REFERENCE, (whole, kind: string, key?: string) => {
      const found = referenceValue(kind, key, values);
      if (found === undefined) {
        throw new DvmError('DVM_REF_NOT_FOUND', `${owner}: ${whole} refers to nothing`, {
          path: 'spec.process.command',
          fix: 'Use $(port), $(ports.CONTAINER_PORT), $(env.NAME), $(volumes.NAME) or $(secret.ENV_NAME) with names the definition has.',
        });
      }
      return found;
    }),
  );
}

/** The values an instance's argv sees on a runtime: host paths on the process runtime, mount paths in containers. */
export function substitutionsFor(instance: DependencyInstance, runtime: RuntimeName): Substitutions {
  const first = instance.ports[0];
  return {
    port: first?.hostPort ?? 0,
    ports: Object.fromEntries(instance.ports.map((p) => [String(p.containerPort), p.hostPort])),
    env: instance.env,
    volumes: Object.fromEntries(
      instance.volumes.map((v) => [v.name, runtime === 'process' ? v.hostPath : v.mountPath]),
    ),
  };
}

function versionSort(a: string, b: string): number {
  return b.localeCompare(a, undefined, { numeric: true });
}

/** Directories of binPaths with `*` expanded (highest version first). */
export function expandBinPaths(patterns: string[]): string[] {
  const out: string[] = [];
  for (const pattern of patterns) {
    if (!pattern.includes('*')) {
      out.push(pattern);
      continue;
    }
    const parts = pattern.split('/');
    const star = parts.findIndex((p) => p.includes('*'));
    const parent = parts.slice(0, star).join('/') || '/';
    const re = new RegExp(
      `^${parts[star]
        ?.split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    let entries: string[] = [];
    try {
      entries = readdirSync(parent)
        .filter((e) => re.test(e))
        .sort(versionSort);
    } catch {}
    for (const entry of entries) out.push(join(parent, entry, ...parts.slice(star + 1)));
  }
  return out;
}

/** A PATH that searches the definition's binPaths first. */
export function searchPath(definition: Spec): string {
  const binPaths = ((definition.process as Spec | undefined)?.binPaths ?? []) as string[];
  return [...expandBinPaths(binPaths), process.env.PATH ?? '/usr/bin:/bin'].join(':');
}

/** Resolves argv[0] against a PATH, leaving it as is when not found (the runtime reports that). */
export function resolveBinary(argv: string[], path: string): string[] {
  const [command, ...rest] = argv;
  if (!command) return argv;
  return [findExecutable(command, path) ?? command, ...rest];
}

/** The ServiceSpec that runs an instance on a runtime. */
export function serviceSpec(instance: DependencyInstance, runtime: RuntimeName): ServiceSpec {
  const def = instance.definition;
  const values = substitutionsFor(instance, runtime);
  const owner = `dependency ${instance.name} (${instance.scope})`;
  const processSection = def.process as Spec | undefined;
  const path = searchPath(def);
  const argv =
    runtime === 'process'
      ? resolveBinary(substitute((processSection?.command ?? []) as string[], values, owner), path)
      : substitute((def.command ?? []) as string[], values, owner);
  const env =
    runtime === 'process'
      ? { PATH: path, LANG: process.env.LANG ?? 'C.UTF-8', ...instance.env }
      : { ...instance.env };
  const user =
    runtime === 'process' ? (processSection?.user as string | undefined) : (def.user as string | undefined);
  const base = {
    id: instance.id,
    owner,
    argv,
    ...(typeof def.image === 'string' ? { image: def.image } : {}),
    env,
    ports: instance.ports,
    volumes: instance.volumes,
    ...(user ? { user } : {}),
    restart: ((def.restart as ServiceSpec['restart']) ?? 'always') as ServiceSpec['restart'],
  };
  return { ...base, specHash: createHash('sha256').update(JSON.stringify(base)).digest('hex').slice(0, 16) };
}

/**
 * The health check of an instance on a runtime; with none declared, its first port accepting TCP; undefined for
 * an instance with neither (it counts as ready while it keeps running).
 */
export function healthCheckFor(instance: DependencyInstance, runtime: RuntimeName): HealthCheck | undefined {
  const def = instance.definition;
  const declared = ((runtime === 'process' && instance.processFromCatalog
    ? def.processHealthCheck
    : def.healthCheck) ?? {}) as Spec;
  const values = substitutionsFor(instance, runtime);
  const owner = `dependency ${instance.name} (${instance.scope})`;
  const hostPortOf = (containerPort: unknown) =>
    instance.ports.find((p) => p.containerPort === containerPort)?.hostPort ?? values.port;
  const timing = {
    intervalMs: declared.interval ? parseDuration(String(declared.interval)) : 2000,
    timeoutMs: declared.timeout ? parseDuration(String(declared.timeout)) : 3000,
    retries: typeof declared.retries === 'number' ? declared.retries : 3,
    startPeriodMs: declared.startPeriod ? parseDuration(String(declared.startPeriod)) : 60_000,
  };
  if (Array.isArray(declared.command)) {
    const argv = substitute(declared.command as string[], values, owner);
    return { ...timing, command: runtime === 'process' ? resolveBinary(argv, searchPath(def)) : argv };
  }
  if (declared.http) {
    const http = declared.http as { path: string; port?: number };
    return { ...timing, http: { url: `http://127.0.0.1:${hostPortOf(http.port)}${http.path}` } };
  }
  const tcp = declared.tcp as { port?: number } | undefined;
  if (!tcp && instance.ports.length === 0) return undefined;
  return { ...timing, tcp: { host: '127.0.0.1', port: hostPortOf(tcp?.port) } };
}
