import { objectKey } from '../../model/api.ts';
import { type KindRegistry, kindFromDefinition } from '../../model/kind-registry.ts';
import type { SourceDocument } from '../../model/yaml-source.ts';
import type { StoredObject } from '../../store/store.ts';
import type { Platform } from '../platform.ts';
import { labelOf, type Pending } from './pending.ts';
import { withoutSystem } from './write-plan.ts';

/**
 * Stored objects outside the batch whose effective form or references depend on objects being re-applied:
 * referrers (templates, instances, tasks, …) and the apps of a domain whose defaults may change. They are
 * recomputed and validated with the batch, so a change that would break them fails, and their stored
 * effective form never goes stale.
 */
export async function storedDependents(
  platform: Platform,
  kinds: KindRegistry,
  batch: Pending[],
): Promise<Pending[]> {
  const changed = batch.filter((p) => p.existing);
  if (changed.length === 0) return [];
  const inBatch = new Set(batch.map((p) => p.key));
  const found = new Map<string, { stored: StoredObject; via: string }>();
  const byKey = new Map(changed.map((p) => [p.key, p]));
  for (const referrer of await platform.store.referrers([...byKey.keys()])) {
    const stored = await platform.store.get(referrer.kind, referrer.placement, referrer.name);
    const source = byKey.get(referrer.toKey);
    if (stored && source)
      found.set(objectKey(stored.kind, stored.placement, stored.name), {
        stored,
        via: labelOf(source.object),
      });
  }
  for (const domain of changed.filter((p) => p.info.kind === 'Domain')) {
    const apps = await platform.store.list({
      kinds: ['App'],
      placement: { ...domain.placement, domain: domain.object.metadata.name },
    });
    for (const app of apps)
      found.set(objectKey(app.kind, app.placement, app.name), { stored: app, via: labelOf(domain.object) });
  }
  // A changed ResourceDefinition may change what its kind's objects must look like: recheck them all.
  for (const definition of changed.filter((p) => p.info.kind === 'ResourceDefinition')) {
    const kind = kindFromDefinition(definition.effective).kind;
    for (const object of await platform.store.list({ kinds: [kind] })) {
      found.set(objectKey(object.kind, object.placement, object.name), {
        stored: object,
        via: labelOf(definition.object),
      });
    }
  }
  const dependents: Pending[] = [];
  for (const [key, { stored, via }] of found) {
    const info = kinds.get(stored.kind);
    if (inBatch.has(key) || !info) continue;
    const object = withoutSystem(stored.applied);
    const doc: SourceDocument = {
      file: `<stored ${stored.kind}/${stored.name}>`,
      index: 0,
      data: object,
      locate: () => ({ line: 0, column: 0 }),
    };
    dependents.push({
      doc,
      info,
      object,
      placement: stored.placement,
      key,
      effective: object,
      provenance: {},
      refs: [],
      existing: stored,
      via,
    });
  }
  return dependents;
}
