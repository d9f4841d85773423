import { stableStringify } from '../../service/stable-json.ts';

/** What policies see of a request beyond its env, as Cedar entity tags. */
export interface RequestTags {
  /** The target's keys other than env, as text (the Target entity's tags). */
  target: Record<string, string>;
  /** Every param as text: numbers and booleans written out, objects and arrays as JSON, keys sorted (Params' tags). */
  params: Record<string, string>;
  /** The integer params as numbers (Numbers' tags). */
  numbers: Record<string, number>;
}

// Objects are written with their keys sorted: a forbid written for {"page":true,"team":"oncall"} holds for the same
// object sent with its keys in another order.
function asText(value: unknown): string {
  return typeof value === 'string' ? value : stableStringify(value);
}

/** The Cedar tags of a request's target (env aside) and params; null and undefined values are left out. */
export function requestTags(
  target: Record<string, unknown>,
  params: Record<string, unknown> | undefined,
): RequestTags {
  const tags: RequestTags = { target: {}, params: {}, numbers: {} };
  for (const [key, value] of Object.entries(target)) {
    if (key !== 'env' && value !== undefined && value !== null) tags.target[key] = asText(value);
  }
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    tags.params[key] = asText(value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) tags.numbers[key] = value;
  }
  return tags;
}

/**
 * The part of a decision's cache key that the tags make: empty for a target with only env and no params (most
 * requests), so those share their decision.
 */
export function tagsKey(
  target: Record<string, unknown>,
  params: Record<string, unknown> | undefined,
): string {
  let extra = false;
  for (const key in target) {
    if (key !== 'env') {
      extra = true;
      break;
    }
  }
  if (!extra && (params === undefined || Object.keys(params).length === 0)) return '';
  return JSON.stringify([target, params ?? {}]);
}
