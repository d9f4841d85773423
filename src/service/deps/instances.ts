import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import type { Store, StoredObject } from '../../store/store.ts';
import { nearest, scopesUp } from '../data/lookup.ts';
import { catalogBase, catalogDefinition } from './catalog.ts';

type Spec = Record<string, unknown>;
type EnvEntry = { name: string; value?: unknown };

/** One dependency instance: a definition instantiated at an Ecosystem, Domain or App, ready to run. */
export interface DependencyInstance {
  /** Unique per dvm home: ecosystem[-domain[-app]]-name. */
  id: string;
  name: string;
  /** Where it is declared: `Ecosystem/quickstart`. */
  scope: string;
  placement: Placement;
  definitionName: string;
  /** `store` (applied) or `catalog` (built in). */
  definitionSource: 'store' | 'catalog';
  /** The definition, with what it leaves out for the process runtime filled in from the catalog. */
  definition: Spec;
  /** True when the process section (and its health check) came from the catalog. */
  processFromCatalog: boolean;
  env: Record<string, string>;
  ports: { containerPort: number; hostPort: number }[];
  volumes: { name: string; hostPath: string; mountPath: string }[];
}

/** Environment entries as a map, later lists overriding earlier ones. */
export function envMap(...lists: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const list of lists)
    for (const e of (Array.isArray(list) ? list : []) as EnvEntry[]) out[e.name] = String(e.value ?? '');
  return out;
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

const SCOPE_KINDS = ['Ecosystem', 'Domain', 'App'] as const;

function scopePlacement(object: StoredObject): Placement {
  const p: Placement = { ...object.placement };
  if (object.kind === 'Ecosystem') p.ecosystem = object.name;
  if (object.kind === 'Domain') p.domain = object.name;
  if (object.kind === 'App') p.app = object.name;
  return p;
}

async function definitionFor(store: Store, ref: string, from: Placement, where: string) {
  const stored = await nearest(store, 'Dependency', ref, from);
  if (stored) {
    const spec = structuredClone((stored.effective.spec ?? {}) as Spec);
    const base = catalogBase(stored.name, spec.image);
    const fill = !spec.process && !!base?.process;
    if (fill && base) {
      spec.process = base.process;
      // The user's check was written for the container; on the process runtime the catalog's applies.
      spec.processHealthCheck = base.healthCheck;
    }
    return { spec, source: 'store' as const, fromCatalog: fill };
  }
  const builtIn = catalogDefinition(ref);
  if (builtIn) return { spec: builtIn, source: 'catalog' as const, fromCatalog: false };
  throw new DvmError('DVM_REF_NOT_FOUND', `${where}: dependency ref "${ref}" is no Dependency definition`, {
    path: 'spec.dependencies',
    object: where,
    fix: 'Apply a Dependency with that name, or use a built-in one (postgres, redis).',
  });
}

async function volumeHostPath(
  store: Store,
  home: string,
  id: string,
  name: string,
  volume: string,
  from: Placement,
) {
  for (const candidate of [`${name}-${volume}`, `${id}-${volume}`]) {
    const object = await nearest(store, 'Volume', candidate, from);
    const hostPath = (object?.effective.spec as Spec | undefined)?.hostPath;
    if (typeof hostPath === 'string') return resolve(expandHome(hostPath));
  }
  return join(home, 'volumes', id, volume);
}

async function build(
  store: Store,
  home: string,
  owner: StoredObject,
  entry: Spec,
): Promise<DependencyInstance> {
  const placement = scopePlacement(owner);
  const name = String(entry.name);
  const id = [placement.ecosystem, placement.domain, placement.app, name].filter(Boolean).join('-');
  const scope = `${owner.kind}/${owner.name}`;
  const ref = String(entry.ref);
  const { spec, source, fromCatalog } = await definitionFor(store, ref, placement, scope);
  const overrides = (entry.ports ?? []) as { containerPort: number; hostPort: number }[];
  const ports = ((spec.ports ?? []) as { containerPort: number; hostPort?: number }[]).map((p) => ({
    containerPort: p.containerPort,
    hostPort:
      overrides.find((o) => o.containerPort === p.containerPort)?.hostPort ?? p.hostPort ?? p.containerPort,
  }));
  const volumes = [];
  for (const v of (spec.volumes ?? []) as { name: string; mountPath: string }[]) {
    volumes.push({ ...v, hostPath: await volumeHostPath(store, home, id, name, v.name, placement) });
  }
  return {
    id,
    name,
    scope,
    placement,
    definitionName: ref,
    definitionSource: source,
    definition: spec,
    processFromCatalog: fromCatalog,
    env: envMap(spec.env, entry.env),
    ports,
    volumes,
  };
}

/** Every dependency instance declared in a scope (an empty placement: all of them), ecosystems first. */
export async function listInstances(
  store: Store,
  home: string,
  within: Placement = {},
): Promise<DependencyInstance[]> {
  const out: DependencyInstance[] = [];
  for (const kind of SCOPE_KINDS) {
    for (const owner of await store.list({ kinds: [kind] })) {
      const at = scopePlacement(owner);
      if (within.ecosystem && at.ecosystem !== within.ecosystem) continue;
      if (within.domain && at.domain && at.domain !== within.domain) continue;
      if (within.app && at.app && at.app !== within.app) continue;
      for (const entry of ((owner.effective.spec as Spec)?.dependencies ?? []) as Spec[]) {
        if (entry.name && entry.ref) out.push(await build(store, home, owner, entry));
      }
    }
  }
  return out;
}

/**
 * How an action's input names a dependency instance in its one form, as policies decide on it: its name with the
 * ecosystem and domain it is declared in (an instance of an App's own scope: its id, which names it alone).
 * Undefined when no instance answers to `name` (the action fails the same way); several: DVM_AMBIGUOUS, thrown.
 */
export async function instanceForm(
  store: Store,
  home: string,
  name: string,
  from: Placement,
): Promise<{ target: string; ecosystem?: string; domain?: string } | undefined> {
  let instance: DependencyInstance;
  try {
    instance = await findInstance(store, home, name, from);
  } catch (error) {
    if ((error as DvmError).code === 'DVM_NOT_FOUND') return undefined;
    throw error;
  }
  if (instance.placement.app) return { target: instance.id };
  return {
    target: instance.name,
    ...(instance.placement.ecosystem ? { ecosystem: instance.placement.ecosystem } : {}),
    ...(instance.placement.domain ? { domain: instance.placement.domain } : {}),
  };
}

/** The instance a name means seen from a scope: declared there or found upward (app → domain → ecosystem). */
export async function findInstance(
  store: Store,
  home: string,
  name: string,
  from: Placement,
): Promise<DependencyInstance> {
  for (const owner of await scopesUp(store, from)) {
    const entry = (((owner.effective.spec as Spec)?.dependencies ?? []) as Spec[]).find(
      (d) => d.name === name && d.ref,
    );
    if (entry) return build(store, home, owner, entry);
  }
  const all = await listInstances(store, home, {});
  const matches = all.filter((i) => i.name === name || i.id === name);
  if (matches.length === 1 && matches[0]) return matches[0];
  throw new DvmError(
    matches.length > 1 ? 'DVM_AMBIGUOUS' : 'DVM_NOT_FOUND',
    matches.length > 1
      ? `dependency "${name}" names ${matches.length} instances: ${matches.map((m) => m.id).join(', ')}`
      : `no dependency instance "${name}"${from.ecosystem ? ` in ecosystem ${from.ecosystem}` : ''}`,
    { fix: 'Pick the scope with -e/-d/-a, or run `dvm get dependencies -A` to list instances.' },
  );
}

/** A short stable key of a dvm home, so two homes never share a container name. */
export function homeKey(home: string): string {
  return createHash('sha256').update(resolve(home)).digest('hex').slice(0, 8);
}
