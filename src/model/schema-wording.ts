import type { ErrorObject } from 'ajv';

/** How schema messages name a duration pattern's values. */
export const DURATION_WORDING = 'a duration like 500ms, 30s, 5m, 1h30m or 7d';

/** Names the type of a value as a message says it: `null`, `a list`, `an object`, `a string`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Names a JSON Schema type as a message says it: `an object`, `a list`, `an integer`, `a string`. */
export function describeTypeName(type: string): string {
  if (type === 'object') return 'an object';
  if (type === 'array') return 'a list';
  if (type === 'integer') return 'an integer';
  return `a ${type}`;
}

/** Drops the errors inside the branches of a failed anyOf/oneOf: the union's own error says what is wrong. */
export function dropBranchErrors(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .map((e) => e.schemaPath);
  return errors.filter((e) => !unions.some((u) => e.schemaPath !== u && e.schemaPath.startsWith(`${u}/`)));
}
