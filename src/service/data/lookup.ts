import { PLACEMENT_FIELDS, type Placement } from '../../model/api.ts';
import type { Store, StoredObject } from '../../store/store.ts';

// How many leading placement fields of `object` match `from` (-1 when it lives somewhere `from` cannot see).
function closeness(object: Placement, from: Placement): number {
  let depth = 0;
  for (const field of PLACEMENT_FIELDS) {
    const value = object[field];
    if (!value) return depth;
    if (value !== from[field]) return -1;
    depth++;
  }
  return depth;
}

/** The object of this kind and name nearest to `from`, looking upward (workspace → app → domain → ecosystem → global). */
export async function nearest(
  store: Store,
  kind: string,
  name: string,
  from: Placement,
): Promise<StoredObject | undefined> {
  const candidates = await store.list({ kinds: [kind], name });
  let best: StoredObject | undefined;
  let bestDepth = -1;
  for (const c of candidates) {
    const depth = closeness(c.placement, from);
    if (depth > bestDepth) {
      best = c;
      bestDepth = depth;
    }
  }
  return best;
}

/** The objects up the chain from `from` (nearest first) that can hold dependency instances. */
export async function scopesUp(store: Store, from: Placement): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  const chain: [string, Placement, string | undefined][] = [
    ['App', { ecosystem: from.ecosystem, domain: from.domain }, from.app],
    ['Domain', { ecosystem: from.ecosystem }, from.domain],
    ['Ecosystem', {}, from.ecosystem],
  ];
  for (const [kind, placement, name] of chain) {
    if (!name) continue;
    const found = await store.list({ kinds: [kind], name, placement });
    if (found[0]) out.push(found[0]);
  }
  return out;
}
