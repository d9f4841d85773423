import { PLACEMENT_FIELDS, type Placement } from '../model/api.ts';
import type { Store } from '../store/store.ts';

/** Name of the Context object that holds the active selection. */
export const CURRENT_CONTEXT = 'current';

/** The active selection (`dvm use …`), as a placement. */
export async function readContext(store: Store): Promise<Placement> {
  const context = await store.get('Context', {}, CURRENT_CONTEXT);
  const spec = (context?.effective.spec ?? {}) as Record<string, unknown>;
  const placement: Placement = {};
  for (const field of PLACEMENT_FIELDS)
    if (typeof spec[field] === 'string' && spec[field]) placement[field] = spec[field] as string;
  return placement;
}

/**
 * The scope a command works in: the context, overridden by the -e/-d/-a/-w flags. A flag replaces its level
 * and drops the context's deeper levels (they belong to the old parent); outer levels stay.
 */
export function mergeScope(context: Placement, flags: Placement): Placement {
  const scope: Placement = {};
  let overridden = false;
  for (const field of PLACEMENT_FIELDS) {
    if (flags[field] !== undefined) {
      scope[field] = flags[field];
      if (flags[field] !== context[field]) overridden = true;
    } else if (!overridden && context[field] !== undefined) {
      scope[field] = context[field];
    }
  }
  return scope;
}
