import type { ErrorCause } from '../errors/dvm-error.ts';
import {
  PLACEMENT_FIELDS,
  type Placement,
  placementFieldsOf,
  placementLabel,
  type ScopeLevel,
} from '../model/api.ts';
import type { View } from './view.ts';

/** The flags that pick each parent level, for error messages. */
export const PLACEMENT_FLAGS: Record<string, string> = {
  ecosystem: '-e',
  domain: '-d',
  app: '-a',
  workspace: '-w',
};

const CONTAINER_KIND: Record<string, string> = {
  ecosystem: 'Ecosystem',
  domain: 'Domain',
  app: 'App',
  workspace: 'Workspace',
};

/** The outcome of placing an object: its full location, or why it could not be placed. */
export type PlacementResult =
  | { placement: Placement }
  | { problem: Omit<ErrorCause, 'file' | 'line' | 'column'> };

/** The location of the container an object of this kind lives in, as a Placement, for each container of the level. */
async function containers(
  view: View,
  scope: ScopeLevel,
  innermostName: string | undefined,
): Promise<Placement[]> {
  const fields = placementFieldsOf(scope);
  const field = fields[fields.length - 1];
  const found = await view.findAll(CONTAINER_KIND[field], innermostName, {});
  return found.map((c) => ({ ...c.placement, [field]: c.name }));
}

function describe(scope: ScopeLevel): string {
  return `a${scope === 'App' || scope === 'Ecosystem' ? 'n' : ''} ${scope.toLowerCase()}`;
}

/**
 * Finds where an object lives: the parents it names (metadata), narrowed by the defaults from flags or the
 * context, else the only container that exists. Ambiguity and absence are problems that name the flags to use.
 */
export async function resolvePlacement(
  view: View,
  kind: string,
  scope: ScopeLevel,
  given: Placement,
  defaults: Placement,
): Promise<PlacementResult> {
  const fields = placementFieldsOf(scope);
  const extra = PLACEMENT_FIELDS.filter((f) => !fields.includes(f) && given[f] !== undefined);
  if (extra.length > 0) {
    return {
      problem: {
        code: 'DVM_SCHEMA_INVALID',
        path: `metadata.${extra[0]}`,
        message: `${kind} objects live ${scope === 'Global' ? 'at global scope' : `in ${describe(scope)}`}; metadata.${extra[0]} does not apply`,
        fix: `Remove metadata.${extra.join(', metadata.')}.`,
      },
    };
  }
  if (fields.length === 0) return { placement: {} };
  const innermost = fields[fields.length - 1];
  let candidates = (await containers(view, scope, given[innermost])).filter((c) =>
    fields.every((f) => given[f] === undefined || c[f] === given[f]),
  );
  for (const field of fields) {
    if (given[field] !== undefined || defaults[field] === undefined || candidates.length <= 1) continue;
    const narrowed = candidates.filter((c) => c[field] === defaults[field]);
    if (narrowed.length > 0) candidates = narrowed;
  }
  const flags = fields.map((f) => `metadata.${f} (or ${PLACEMENT_FLAGS[f]})`).join(', ');
  if (candidates.length === 1) return { placement: candidates[0] };
  const named = fields.filter((f) => given[f] !== undefined);
  if (candidates.length === 0) {
    if (named.length === 0) {
      return {
        problem: {
          code: 'DVM_SCOPE_REQUIRED',
          path: `metadata.${innermost}`,
          message: `${kind} objects live in ${describe(scope)}, and none exists yet`,
          fix: `Create the ${innermost} first (dvm create ${innermost} NAME) or apply it in the same batch.`,
        },
      };
    }
    const wanted = placementLabel(given);
    return {
      problem: {
        code: 'DVM_REF_NOT_FOUND',
        path: `metadata.${named[named.length - 1]}`,
        message: `${scope.toLowerCase()} "${wanted}" does not exist`,
        fix: `Create it first, apply it in the same batch, or correct ${flags}.`,
      },
    };
  }
  const options = candidates.map((c) => placementLabel(c)).join(', ');
  if (named.length === 0) {
    return {
      problem: {
        code: 'DVM_SCOPE_REQUIRED',
        path: `metadata.${innermost}`,
        message: `${kind} objects live in ${describe(scope)}, and none was given (candidates: ${options})`,
        fix: `Set ${flags}, or select one with \`dvm use ${innermost} NAME\`.`,
      },
    };
  }
  return {
    problem: {
      code: 'DVM_AMBIGUOUS',
      path: `metadata.${named[named.length - 1]}`,
      message: `${scope.toLowerCase()} "${placementLabel(given)}" matches ${candidates.length}: ${options}`,
      fix: `Set ${flags} to pick one.`,
    },
  };
}
