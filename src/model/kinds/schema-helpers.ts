import { type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { API_VERSION } from '../api.ts';
import { DURATION_PATTERN, NAME_PATTERN } from '../patterns.ts';

export { DURATION_PATTERN, NAME_PATTERN };

/** An object whose unknown fields are errors. */
export function Strict<T extends TProperties>(properties: T, description?: string): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
}

/** An optional field with a description (every field that `dvm explain` shows has one). */
export function Opt<T extends TSchema>(schema: T, description: string) {
  return Type.Optional(Type.Unsafe<T['static']>({ ...schema, description }));
}

/** A required field with a description. */
export function Req<T extends TSchema>(schema: T, description: string) {
  return Type.Unsafe<T['static']>({ ...schema, description });
}

/** A duration like `5m`, `10s`, `1h30m`, `7d`. */
export const Duration = Type.String({
  pattern: DURATION_PATTERN,
  description: 'A duration like 500ms, 10s, 5m, 1h30m, 7d.',
});

/** A resource quantity like `512Mi`, `500m`, `10Gi` or a plain number. */
export const Quantity = Type.Union(
  [Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?([numkMGTPE]i?)?$' }), Type.Number()],
  {
    description: 'A quantity like 512Mi, 500m, 10Gi or 4.',
  },
);

/** A name of another object. */
export const NameRef = Type.String({ minLength: 1 });

/** Free-form values (data rows, plugin settings): any JSON object. */
export const FreeObject = Type.Record(Type.String(), Type.Unknown());

/** `[{name, value}]` environment variables. */
export const EnvList = Type.Array(
  Strict({
    name: Req(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), 'Variable name.'),
    value: Opt(Type.Union([Type.String(), Type.Number(), Type.Boolean()]), 'Variable value.'),
  }),
  { description: 'Environment variables as a list of {name, value}.' },
);

/** The metadata every object carries; system fields are filled in by the store and ignored on input. */
export const Metadata = Strict(
  {
    name: Req(
      Type.String({ pattern: NAME_PATTERN, maxLength: 253 }),
      'Name, unique within the kind and scope.',
    ),
    description: Opt(Type.String(), 'What the object is for.'),
    ecosystem: Opt(NameRef, 'The ecosystem the object lives in.'),
    domain: Opt(NameRef, 'The domain the object lives in (legacy name: project).'),
    app: Opt(NameRef, 'The app the object lives in.'),
    workspace: Opt(NameRef, 'The workspace the object lives in.'),
    category: Opt(Type.String(), 'A free-form category for grouping in listings.'),
    labels: Opt(Type.Record(Type.String(), Type.String()), 'Key/value labels for selection with -l.'),
    annotations: Opt(Type.Record(Type.String(), Type.String()), 'Key/value notes for tools and people.'),
    uid: Opt(Type.String(), 'Set by the store: unique id of this object.'),
    creationTimestamp: Opt(Type.String(), 'Set by the store: when the object was created.'),
    generation: Opt(Type.Integer(), 'Set by the store: increases when the spec changes.'),
    resourceVersion: Opt(Type.String(), 'Set by the store: applying a stale value is a conflict.'),
  },
  'Standard object metadata.',
);

/** A spec object: strict, with the optional `template` field every kind accepts (unwrapped fields are required). */
export function Spec<T extends TProperties>(properties: T, description: string) {
  return Strict(
    { template: Opt(NameRef, 'Name of a Template whose defaults this object inherits.'), ...properties },
    description,
  );
}

/** The whole object schema of a built-in kind: apiVersion, kind, metadata and spec. */
export function KindSchema<S extends TSchema>(
  kind: string,
  spec: S,
  description: string,
  specRequired = true,
) {
  return Type.Object(
    {
      apiVersion: Req(Type.Literal(API_VERSION), `Always ${API_VERSION}.`),
      kind: Req(Type.Literal(kind), `Always ${kind}.`),
      metadata: Metadata,
      spec: specRequired ? spec : Type.Optional(spec),
    },
    { additionalProperties: false, description, $id: `${kind}` },
  );
}
