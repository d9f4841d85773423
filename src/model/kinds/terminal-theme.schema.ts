import { type Static, Type } from '@sinclair/typebox';
import { KindSchema, NameRef, Opt, Spec } from './schema-helpers.ts';

/** Schema of the TerminalTheme kind: terminal colors (seed 000, "TerminalTheme"). */
export const TerminalThemeSchema = KindSchema(
  'TerminalTheme',
  Spec(
    {
      paletteRef: Opt(NameRef, 'An NvimTheme whose palette supplies the colors.'),
      colors: Opt(
        Type.Record(Type.String(), Type.String()),
        'Colors defined inline (background, foreground, cursor, ANSI black … white); they win over paletteRef.',
      ),
    },
    'Desired state of the terminal theme.',
  ),
  'Terminal colors.',
);

/** A TerminalTheme object. */
export type TerminalTheme = Static<typeof TerminalThemeSchema>;
