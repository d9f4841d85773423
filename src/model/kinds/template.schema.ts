import { type Static, Type } from '@sinclair/typebox';
import { FreeObject, KindSchema, Opt, Req, Spec } from './schema-helpers.ts';

/** Schema of the Template kind: reusable defaults for objects of one kind (seed 000, "Template"). */
export const TemplateSchema = KindSchema(
  'Template',
  Spec(
    {
      targetKind: Req(
        Type.String({ pattern: '^[A-Z][A-Za-z0-9]*$' }),
        'The kind of the objects that use this template.',
      ),
      defaults: Opt(
        FreeObject,
        'Spec fields deep-merged under the spec of each object that uses the template.',
      ),
    },
    'Desired state of the template.',
  ),
  'Reusable defaults for objects of one kind.',
);

/** A Template object. */
export type Template = Static<typeof TemplateSchema>;
