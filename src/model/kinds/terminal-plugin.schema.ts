import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './common.schema.ts';
import { KindSchema, Opt, Spec } from './schema-helpers.ts';

/** Schema of the TerminalPlugin kind: a shell plugin configuration (seed 000, "TerminalPlugin"). */
export const TerminalPluginSchema = KindSchema(
  'TerminalPlugin',
  Spec(
    {
      repo: Opt(
        Type.String({ pattern: '^[^/\\s]+/[^/\\s]+$' }),
        'GitHub repository, like zsh-users/zsh-autosuggestions.',
      ),
      shell: Opt(StringEnum(['zsh', 'bash', 'fish']), 'Shell the plugin is for.'),
      source: Opt(
        Type.String({ minLength: 1 }),
        'File of the repository to source, like zsh-autosuggestions.zsh.',
      ),
      config: Opt(
        Type.Record(Type.String(), Type.String()),
        'Shell variables set before the plugin is sourced.',
      ),
    },
    'Desired state of the plugin.',
  ),
  'A shell plugin configuration.',
);

/** A TerminalPlugin object. */
export type TerminalPlugin = Static<typeof TerminalPluginSchema>;
