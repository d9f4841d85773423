import type { Static } from '@sinclair/typebox';
import { NameList, OptCallback, OptRefList } from './common.schema.ts';
import { KindSchema, Opt, Spec } from './schema-helpers.ts';

/** Schema of the DataLake kind: data stores seeded in order (seed 000, "DataLake"). */
export const DataLakeSchema = KindSchema(
  'DataLake',
  Spec(
    {
      dataStores: OptRefList('A DataStore, qualified as DOMAIN/NAME.', 'The data stores of the lake.'),
      seedOrder: Opt(
        NameList,
        'Data store names in seeding order (for foreign keys); unnamed stores follow.',
      ),
      beforeSeed: OptCallback('Action to run before seeding, like data.truncate with target: all.'),
      afterSeed: OptCallback('Action to run after seeding, like data.verify with target: all.'),
    },
    'Desired state of the data lake.',
  ),
  'A set of data stores seeded in order: ecosystem-wide test data.',
);

/** A DataLake object. */
export type DataLake = Static<typeof DataLakeSchema>;
