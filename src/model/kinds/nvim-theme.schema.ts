import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './common.schema.ts';
import { KindSchema, Opt, Spec } from './schema-helpers.ts';

/** Schema of the NvimTheme kind: a Neovim colorscheme with its palette (seed 000, "NvimTheme"). */
export const NvimThemeSchema = KindSchema(
  'NvimTheme',
  Spec(
    {
      colorscheme: Opt(Type.String({ minLength: 1 }), 'Name passed to :colorscheme, like tokyonight.'),
      background: Opt(StringEnum(['dark', 'light']), 'dark or light.'),
      repo: Opt(Type.String({ pattern: '^[^/\\s]+/[^/\\s]+$' }), 'GitHub repository of the theme plugin.'),
      config: Opt(Type.String(), 'Lua code run before the colorscheme is set.'),
      palette: Opt(
        Type.Record(Type.String(), Type.String()),
        'Named colors (like primary, bg, fg: "#7aa2f7").',
      ),
    },
    'Desired state of the theme.',
  ),
  'A Neovim colorscheme with its palette.',
);

/** An NvimTheme object. */
export type NvimTheme = Static<typeof NvimThemeSchema>;
