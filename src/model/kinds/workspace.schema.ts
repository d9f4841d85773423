import { type Static, Type } from '@sinclair/typebox';
import { NameList, OptRefList } from './common.schema.ts';
import { KindSchema, NameRef, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** Schema of the Workspace kind: the development environment of an app (seed 000, "Workspace"). */
export const WorkspaceSchema = KindSchema(
  'Workspace',
  Spec(
    {
      language: Opt(Type.String(), 'Main language of the toolchain to install, like go or python.'),
      languageVersion: Opt(Type.String(), 'Language version of the toolchain, like "1.23".'),
      image: Opt(
        Type.String({ minLength: 1 }),
        'Base container image of the workspace (default: built from language).',
      ),
      mounts: Opt(
        Type.Array(
          Strict({
            source: Req(Type.String({ minLength: 1 }), 'Path on the host (~ expands to home).'),
            target: Req(Type.String({ minLength: 1 }), 'Path inside the workspace container.'),
            readOnly: Opt(Type.Boolean(), 'Mount read-only (default false).'),
          }),
        ),
        'Host paths mounted into the workspace container.',
      ),
      nvim: Opt(
        Strict({
          plugins: Opt(NameList, 'Names of NvimPlugin objects to install.'),
          theme: Opt(NameRef, 'Name of the NvimTheme to use.'),
        }),
        'Neovim configuration.',
      ),
      terminal: Opt(
        Strict({
          prompt: Opt(NameRef, 'Name of the TerminalPrompt to use.'),
          plugins: Opt(NameList, 'Names of TerminalPlugin objects to install.'),
          theme: Opt(NameRef, 'Name of the TerminalTheme to use.'),
        }),
        'Shell configuration.',
      ),
      tasks: OptRefList(
        "Name of a Task of the app's domain.",
        'Tasks offered in this workspace (like lint, test, build).',
      ),
    },
    'Desired state of the workspace.',
  ),
  'The development environment of an app: the app in dev mode.',
  false,
);

/** A Workspace object. */
export type Workspace = Static<typeof WorkspaceSchema>;
