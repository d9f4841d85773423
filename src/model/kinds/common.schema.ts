import { type TSchema, Type } from '@sinclair/typebox';
import { NameRef, Opt, Req, Strict } from './schema-helpers.ts';

/** A string that must be one of `values` (a JSON Schema `enum`, so errors list the allowed values). */
export function StringEnum<const T extends readonly string[]>(values: T) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
}

/** A list of strings. */
export const StringList = Type.Array(Type.String());

/** A list of object names. */
export const NameList = Type.Array(NameRef);

/** A string or a list of strings (like lazy.nvim's `event` and `ft`). */
export const StringOrList = Type.Union([Type.String(), StringList]);

/**
 * A callback such as `onSuccess`, `onFailure`, `onComplete`, `beforeSeed`: the action to run (built-in, like
 * notify.slack, or an Action object) plus the action's parameters as extra fields (channel, severity, message…).
 */
export const Callback = Type.Object(
  { action: Req(NameRef, 'The built-in action (like notify.slack or git.push) or Action object to run.') },
  {
    additionalProperties: true,
    description:
      'An action to run, with its parameters (channel, severity, message, remote, …) as extra fields.',
  },
);

/** An optional callback field with a description. */
export function OptCallback(description: string) {
  return Opt(Callback, description);
}

/** A `{ref: NAME}` entry naming another object. */
export function RefEntry(description: string) {
  return Strict({ ref: Req(NameRef, description) });
}

/** An optional list of `{ref: NAME}` entries. */
export function OptRefList(entryDescription: string, listDescription: string) {
  return Opt(Type.Array(RefEntry(entryDescription)), listDescription);
}

/**
 * Requires at least one of `fields` on an object schema (aliases like `taskRef` / `ref`). The anyOf sits inside
 * an allOf so that schema walkers (dvm explain) still see the object's own properties.
 */
export function AnyOfRequired<T extends TSchema>(schema: T, fields: readonly string[]): T {
  const anyOf = fields.map((field) => ({ properties: { [field]: {} }, required: [field] }));
  return { ...schema, allOf: [{ description: `needs ${fields.join(' or ')}`, anyOf }] };
}
