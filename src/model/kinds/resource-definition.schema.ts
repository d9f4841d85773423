import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './common.schema.ts';
import { FreeObject, KindSchema, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** The scopes a user-defined kind may live in; Project is the legacy name of Domain. */
export const DEFINITION_SCOPES = ['Global', 'Ecosystem', 'Domain', 'Project', 'App', 'Workspace'] as const;

const lowerName = Type.String({ pattern: '^[a-z][a-z0-9]*$' });

/** Schema of the ResourceDefinition kind: a user-defined kind (seed 000, "ResourceDefinition"). */
export const ResourceDefinitionSchema = KindSchema(
  'ResourceDefinition',
  Spec(
    {
      group: Req(
        Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$' }),
        'API group, like mycompany.io; objects use apiVersion GROUP/v1.',
      ),
      names: Req(
        Strict({
          kind: Req(
            Type.String({ pattern: '^[A-Z][A-Za-z0-9]*$' }),
            'Kind name, in PascalCase, like FeatureFlag.',
          ),
          plural: Opt(
            lowerName,
            'Plural name for the CLI, like featureflags (default: kind in lowercase + s).',
          ),
          singular: Opt(
            lowerName,
            'Singular name for the CLI, like featureflag (default: kind in lowercase).',
          ),
          shortNames: Opt(Type.Array(lowerName), 'Short names for the CLI, like ff.'),
        }),
        'The names of the kind.',
      ),
      scope: Opt(
        StringEnum(DEFINITION_SCOPES),
        'Where objects of the kind live (default Global; Project means Domain).',
      ),
      schema: Opt(
        FreeObject,
        'JSON Schema of the objects: of the whole body (with a spec property) or of the spec alone.',
      ),
      additionalPrinterColumns: Opt(
        Type.Array(
          Strict({
            header: Req(Type.String({ minLength: 1 }), 'Column header, like ENABLED.'),
            path: Req(Type.String({ minLength: 1 }), 'Dotted path into the object, like spec.enabled.'),
            wide: Opt(Type.Boolean(), 'Show the column only with -o wide.'),
          }),
        ),
        'Extra columns for dvm get.',
      ),
    },
    'Desired state of the resource definition.',
  ),
  'A user-defined kind with its JSON Schema.',
);

/** A ResourceDefinition object. */
export type ResourceDefinition = Static<typeof ResourceDefinitionSchema>;
