import type { Static } from '@sinclair/typebox';
import { KindSchema, NameRef, Opt, Spec } from './schema-helpers.ts';

/** Schema of the Context kind: the active selection (seed 000, "Context"). */
export const ContextSchema = KindSchema(
  'Context',
  Spec(
    {
      ecosystem: Opt(NameRef, 'The selected ecosystem.'),
      domain: Opt(NameRef, 'The selected domain.'),
      app: Opt(NameRef, 'The selected app.'),
      workspace: Opt(NameRef, 'The selected workspace.'),
    },
    'The selected containers.',
  ),
  'The active selection of ecosystem, domain, app and workspace.',
  false,
);

/** A Context object. */
export type Context = Static<typeof ContextSchema>;
