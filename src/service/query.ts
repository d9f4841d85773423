import { DvmError } from '../errors/dvm-error.ts';
import { type Placement, placementFieldsOf, placementLabel } from '../model/api.ts';
import type { KindInfo } from '../model/catalog.ts';
import { didYouMean } from '../model/suggest.ts';
import type { ObjectSummary, Store, StoredObject } from '../store/store.ts';
import { PLACEMENT_FLAGS } from './placement.ts';
import { matchesSelector, parseSelector } from './selector.ts';

/** The part of a scope that applies to objects of a kind (a Task is filtered by ecosystem and domain only). */
export function scopeFor(info: KindInfo, scope: Placement): Placement {
  const filter: Placement = {};
  for (const field of placementFieldsOf(info.scope))
    if (scope[field] !== undefined) filter[field] = scope[field];
  return filter;
}

/** Options of a listing. */
export interface ListOptions {
  scope: Placement;
  /** Ignore the scope (-A). */
  all?: boolean;
  selector?: string;
}

/** Objects of some kinds in a scope, optionally filtered by a label selector. */
export async function listObjects(
  store: Store,
  infos: KindInfo[],
  options: ListOptions,
): Promise<StoredObject[]> {
  const selector = options.selector ? parseSelector(options.selector) : undefined;
  const result: StoredObject[] = [];
  for (const info of infos) {
    const placement = options.all ? {} : scopeFor(info, options.scope);
    for (const object of await store.list({ kinds: [info.kind], placement })) {
      if (!selector || matchesSelector(selector, object.effective.metadata.labels ?? {})) result.push(object);
    }
  }
  return result;
}

/** Table rows of objects of a kind in a scope: only the given effective-form paths are read. */
export async function summarizeObjects(
  store: Store,
  info: KindInfo,
  paths: string[],
  options: ListOptions,
): Promise<ObjectSummary[]> {
  const selector = options.selector ? parseSelector(options.selector) : undefined;
  const placement = options.all ? {} : scopeFor(info, options.scope);
  const rows = await store.summarize({ kinds: [info.kind], placement }, paths);
  return selector
    ? rows.filter((r) =>
        matchesSelector(selector, (r.values['metadata.labels'] ?? {}) as Record<string, string>),
      )
    : rows;
}

/** The one object of a kind with this name in the scope; absent or several is a coded error naming the flags. */
export async function findObject(
  store: Store,
  info: KindInfo,
  name: string,
  scope: Placement,
): Promise<StoredObject> {
  const filter = scopeFor(info, scope);
  const found = await store.list({ kinds: [info.kind], name, placement: filter });
  if (found.length === 1) return found[0];
  const where = placementLabel(filter);
  if (found.length === 0) {
    const others = await store.list({ kinds: [info.kind], placement: filter });
    const elsewhere = await store.list({ kinds: [info.kind], name });
    const hint =
      elsewhere.length > 0
        ? ` It exists in ${elsewhere.map((o) => placementLabel(o.placement)).join(', ')}.`
        : '';
    throw new DvmError(
      'DVM_NOT_FOUND',
      `${info.singular} "${name}" not found${where ? ` in ${where}` : ''}${didYouMean(
        name,
        others.map((o) => o.name),
      )}.${hint}`,
      {
        fix: `Check the name with \`dvm get ${info.plural}${where ? '' : ' -A'}\`, or pick the scope with ${flagsFor(info)}.`,
      },
    );
  }
  throw new DvmError(
    'DVM_AMBIGUOUS',
    `${info.singular} "${name}" exists in ${found.length} scopes: ${found.map((o) => placementLabel(o.placement)).join(', ')}`,
    {
      fix: `Pick one with ${flagsFor(info)} (or \`dvm use\`).`,
      details: { matches: found.map((o) => o.placement) },
    },
  );
}

function flagsFor(info: KindInfo): string {
  const fields = placementFieldsOf(info.scope);
  return fields.length
    ? fields.map((f) => `${PLACEMENT_FLAGS[f]} ${f.toUpperCase()}`).join(' ')
    : 'no scope flags (it is global)';
}
