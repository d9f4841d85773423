import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './common.schema.ts';
import { FreeObject, KindSchema, NameRef, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** The field types a DataStore schema may use. */
export const DATA_FIELD_TYPES = [
  'string',
  'text',
  'integer',
  'number',
  'boolean',
  'timestamp',
  'date',
  'uuid',
  'json',
] as const;

/** One field (column) of a DataStore schema. */
export const DataField = Strict(
  {
    name: Req(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), 'Field (column) name.'),
    type: Req(StringEnum(DATA_FIELD_TYPES), 'Field type.'),
    primary: Opt(Type.Boolean(), 'Part of the primary key.'),
    unique: Opt(Type.Boolean(), 'Values must be unique.'),
    nullable: Opt(Type.Boolean(), 'The field may be null or missing (default true unless primary).'),
    enum: Opt(
      Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1 }),
      'The only allowed values.',
    ),
  },
  'A field of the data store.',
);

/** One entry of a DataStore's records: a DataRecord by name, or a record written inline. */
export const DataStoreRecord = Type.Union(
  [
    Strict({ ref: Req(NameRef, 'Name of a DataRecord of this store.') }),
    Strict({ inline: Req(FreeObject, "The record's fields and values.") }),
  ],
  { description: 'A record: {ref: DATARECORD} or {inline: {field: value, …}}.' },
);

/** Schema of the DataStore kind: a schema and its records (seed 000, "DataStore"). */
export const DataStoreSchema = KindSchema(
  'DataStore',
  Spec(
    {
      target: Opt(
        Strict({
          dependencyRef: Req(NameRef, 'The dependency instance (or definition) the data is inserted into.'),
          database: Opt(Type.String({ minLength: 1 }), 'Database name in the dependency.'),
          table: Opt(Type.String({ minLength: 1 }), 'Table (or collection, or key prefix) name.'),
        }),
        'Where the data is seeded.',
      ),
      schema: Opt(
        Strict({ fields: Req(Type.Array(DataField, { minItems: 1 }), 'The fields, in column order.') }),
        'The schema records must follow.',
      ),
      records: Opt(Type.Array(DataStoreRecord), 'The records of the store, by reference or inline.'),
    },
    'Desired state of the data store.',
  ),
  'A schema and its records: a table or collection of test data.',
);

/** A DataStore object. */
export type DataStore = Static<typeof DataStoreSchema>;
