import { type Static, Type } from '@sinclair/typebox';
import { KindSchema, Opt, Spec } from './schema-helpers.ts';

/** Schema of the TerminalPrompt kind: a shell prompt configuration (seed 000, "TerminalPrompt"). */
export const TerminalPromptSchema = KindSchema(
  'TerminalPrompt',
  Spec(
    {
      type: Opt(Type.String({ minLength: 1 }), 'Prompt engine, like starship or oh-my-posh.'),
      config: Opt(
        Type.String(),
        'Configuration file text of the prompt engine (starship.toml for starship).',
      ),
    },
    'Desired state of the prompt.',
  ),
  'A shell prompt configuration.',
);

/** A TerminalPrompt object. */
export type TerminalPrompt = Static<typeof TerminalPromptSchema>;
