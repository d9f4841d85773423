import type { Static } from '@sinclair/typebox';
import { OptRefList } from './common.schema.ts';
import { DependencyInstanceList } from './dependency-instance.schema.ts';
import { FreeObject, KindSchema, Opt, Spec } from './schema-helpers.ts';

/** Schema of the Domain kind: a bounded context that groups related apps (seed 000, "Domain"). */
export const DomainSchema = KindSchema(
  'Domain',
  Spec(
    {
      dependencies: Opt(
        DependencyInstanceList,
        'Dependency instances of the domain, in addition to the ecosystem ones.',
      ),
      dataStores: OptRefList('Name of a DataStore of this domain.', 'Test data stores of the domain.'),
      defaults: Opt(
        FreeObject,
        'Default spec fields for the apps of this domain (like language, languageVersion).',
      ),
    },
    'Desired state of the domain.',
  ),
  'A bounded context within an ecosystem that groups related apps (formerly Project).',
  false,
);

/** A Domain object. */
export type Domain = Static<typeof DomainSchema>;
