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

const isUnion = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';

/**
 * Drops the errors inside the branches of a failed anyOf/oneOf: the union's own error says what is wrong. Unless
 * the value has the type of exactly one branch (a list where the forms are a string or a list of strings): then
 * that branch's errors are the precise ones (`spec.command[1]: must be a string`), and they replace the union's.
 * Also drops a propertyNames error that comes with the failure of the name it checked.
 */
export function dropBranchErrors(errors: ErrorObject[]): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  for (const union of errors.filter(isUnion)) {
    const prefix = `${union.schemaPath}/`;
    const inside = errors.filter((e) => e.schemaPath.startsWith(prefix));
    const branchOf = (e: ErrorObject) => e.schemaPath.slice(prefix.length).split('/')[0];
    // A branch whose type the value does not have fails with a `type` error at the union's own path.
    const wrongType = (branch: string) =>
      inside.some(
        (e) => branchOf(e) === branch && e.keyword === 'type' && e.instancePath === union.instancePath,
      );
    const fitting = [...new Set(inside.map(branchOf))].filter((b) => !wrongType(b));
    const keep = fitting.length === 1 ? fitting[0] : undefined;
    if (keep !== undefined) dropped.add(union);
    for (const e of inside) if (branchOf(e) !== keep) dropped.add(e);
  }
  // A property name that fails its schema comes with that failure (which says why) and a bare "property name must
  // be valid": the second says nothing more.
  for (const names of errors.filter((e) => e.keyword === 'propertyNames'))
    if (errors.some((e) => e !== names && e.schemaPath.startsWith(`${names.schemaPath}/`)))
      dropped.add(names);
  return errors.filter((e) => !dropped.has(e));
}
