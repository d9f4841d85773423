import { type Static, Type } from '@sinclair/typebox';
import { NameList, StringOrList } from './common.schema.ts';
import { FreeObject, KindSchema, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** Schema of the NvimPlugin kind: a Neovim plugin and its configuration (seed 000, "NvimPlugin"). */
export const NvimPluginSchema = KindSchema(
  'NvimPlugin',
  Spec(
    {
      repo: Opt(
        Type.String({ pattern: '^[^/\\s]+/[^/\\s]+$' }),
        'GitHub repository, like nvim-telescope/telescope.nvim.',
      ),
      branch: Opt(Type.String({ minLength: 1 }), 'Git branch to install.'),
      version: Opt(Type.String({ minLength: 1 }), 'Git tag or semver range to install.'),
      lazy: Opt(Type.Boolean(), 'Load the plugin lazily (on event, filetype, command or key).'),
      event: Opt(StringOrList, 'Event(s) that load the plugin, like VimEnter.'),
      ft: Opt(StringOrList, 'Filetype(s) that load the plugin, like go.'),
      cmd: Opt(StringOrList, 'Command(s) that load the plugin.'),
      build: Opt(Type.String({ minLength: 1 }), 'Build step after install or update, like :TSUpdate.'),
      dependencies: Opt(NameList, 'Plugins this plugin needs.'),
      keys: Opt(
        Type.Array(
          Strict({
            key: Req(Type.String({ minLength: 1 }), 'Key sequence, like <leader>ff.'),
            action: Req(Type.String({ minLength: 1 }), 'Command or Lua to run, like "Telescope find_files".'),
            desc: Opt(Type.String(), 'Description shown in key help.'),
            mode: Opt(StringOrList, 'Vim mode(s) of the mapping (default n).'),
          }),
        ),
        'Key mappings.',
      ),
      opts: Opt(FreeObject, "Options passed to the plugin's setup()."),
      config: Opt(Type.String(), 'Lua code run after the plugin loads.'),
    },
    'Desired state of the plugin.',
  ),
  'A Neovim plugin and its configuration.',
);

/** An NvimPlugin object. */
export type NvimPlugin = Static<typeof NvimPluginSchema>;
