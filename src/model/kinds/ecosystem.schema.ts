import type { Static } from '@sinclair/typebox';
import { OptRefList } from './common.schema.ts';
import { DependencyInstanceList } from './dependency-instance.schema.ts';
import { KindSchema, Opt, Spec } from './schema-helpers.ts';

/** Schema of the Ecosystem kind: the top-level grouping of related domains (seed 000, "Ecosystem"). */
export const EcosystemSchema = KindSchema(
  'Ecosystem',
  Spec(
    {
      dependencies: Opt(
        DependencyInstanceList,
        'Dependency instances shared by every domain and app of the ecosystem.',
      ),
      dataLakes: OptRefList(
        'Name of a DataLake of this ecosystem.',
        'Data lakes of shared integration-test data.',
      ),
    },
    'Desired state of the ecosystem.',
  ),
  'Top-level grouping of related domains: a platform or product area.',
  false,
);

/** An Ecosystem object. */
export type Ecosystem = Static<typeof EcosystemSchema>;
