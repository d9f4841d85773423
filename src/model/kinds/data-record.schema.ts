import type { Static } from '@sinclair/typebox';
import { FreeObject, KindSchema, NameRef, Req, Spec } from './schema-helpers.ts';

/** Schema of the DataRecord kind: one row or entity of test data (seed 000, "DataRecord"). */
export const DataRecordSchema = KindSchema(
  'DataRecord',
  Spec(
    {
      dataStoreRef: Req(NameRef, 'The DataStore this record belongs to.'),
      data: Req(FreeObject, "The record: field names of the data store's schema and their values."),
    },
    'Desired state of the data record.',
  ),
  'One row or entity of test data, reusable across tasks.',
);

/** A DataRecord object. */
export type DataRecord = Static<typeof DataRecordSchema>;
