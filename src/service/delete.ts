import { DvmError } from '../errors/dvm-error.ts';
import { objectKey, type Placement, placementLabel } from '../model/api.ts';
import { kindFromDefinition } from '../model/kind-registry.ts';
import type { Store, StoredObject } from '../store/store.ts';

/** Options of a delete. */
export interface DeleteOptions {
  /** Delete even though other objects reference these. */
  force?: boolean;
  /** Delete the objects inside a container (ecosystem, domain, app, workspace) too. */
  cascade?: boolean;
  dryRun?: boolean;
}

const CONTAINER_FIELD: Record<string, keyof Placement> = {
  Ecosystem: 'ecosystem',
  Domain: 'domain',
  App: 'app',
  Workspace: 'workspace',
};

/** The location of the objects that live inside a container object, or undefined for other kinds. */
export function innerPlacement(object: StoredObject): Placement | undefined {
  const field = Object.hasOwn(CONTAINER_FIELD, object.kind) ? CONTAINER_FIELD[object.kind] : undefined;
  return field ? { ...object.placement, [field]: object.name } : undefined;
}

const label = (o: { kind: string; name: string; placement: Placement }) =>
  `${o.kind}/${o.name}${placementLabel(o.placement) ? ` (in ${placementLabel(o.placement)})` : ''}`;

function listed(items: string[]): string {
  const shown = items.slice(0, 10).join(', ');
  return items.length > 10 ? `${shown} and ${items.length - 10} more` : shown;
}

/**
 * Deletes objects atomically. Refuses containers with children unless cascading, objects others refer to
 * unless forced, and ResourceDefinitions whose kind still has objects. Returns everything deleted.
 */
export async function deleteObjects(
  store: Store,
  targets: StoredObject[],
  options: DeleteOptions = {},
): Promise<StoredObject[]> {
  const doomed = new Map<string, StoredObject>(targets.map((t) => [t.uid, t]));
  for (const target of targets) {
    const inner = innerPlacement(target);
    if (!inner) continue;
    const children = await store.list({ placement: inner });
    if (children.length > 0 && !options.cascade) {
      throw new DvmError(
        'DVM_IN_USE',
        `${label(target)} contains ${children.length} object(s): ${listed(children.map(label))}`,
        {
          fix: 'Delete them first, or pass --cascade to delete them with it.',
          details: { children: children.map((c) => `${c.kind}/${c.name}`) },
        },
      );
    }
    for (const child of children) doomed.set(child.uid, child);
  }
  for (const target of doomed.values()) {
    if (target.kind !== 'ResourceDefinition') continue;
    const info = kindFromDefinition(target.effective);
    const live = (await store.list({ kinds: [info.kind] })).filter((o) => !doomed.has(o.uid));
    if (live.length > 0) {
      throw new DvmError(
        'DVM_IN_USE',
        `${label(target)} defines kind ${info.kind}, which still has ${live.length} object(s): ${listed(live.map(label))}`,
        {
          fix: `Delete the ${info.plural} first (dvm delete ${info.singular} NAME).`,
        },
      );
    }
  }
  const keys = [...doomed.values()].map((o) => objectKey(o.kind, o.placement, o.name));
  const referrers = (await store.referrers(keys)).filter((r) => !doomed.has(r.uid));
  if (referrers.length > 0 && !options.force) {
    const names = referrers.map((r) => `${label(r)} at ${r.path}`);
    throw new DvmError('DVM_IN_USE', `${referrers.length} reference(s) would break: ${listed(names)}`, {
      fix: 'Change or delete the referrers first, or pass --force to delete anyway.',
      details: { referrers: names },
    });
  }
  if (!options.dryRun) {
    await store.write({
      puts: [],
      deletes: [...doomed.values()].map((o) => ({ uid: o.uid, expectedResourceVersion: o.resourceVersion })),
    });
  }
  return [...doomed.values()];
}
