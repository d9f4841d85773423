import { CONTROL_CHARACTERS } from '../model/control-characters.ts';

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

// One character as a visible escape: \n \r \t by name, others below U+0100 as \xNN, the bidi ones as \uNNNN.
function escaped(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Agent-supplied text (a target label, a param, a requester's name, a reason) made safe to print on one line of a
 * terminal: controls and bidi overrides are written as visible escapes (`\n`, `\x1b`, `\u202e`), so what another
 * principal wrote can neither start a forged line, move the cursor, nor reorder what is shown; the rest is unchanged.
 */
export function terminalText(text: unknown): string {
  return String(text).replace(CONTROL_CHARACTERS, escaped);
}

/**
 * Text of several lines (an error with its causes and fixes, a progress message) made safe for a terminal: like
 * terminalText, but newlines and tabs stay as they are, so the lines keep their shape while an escape sequence or a
 * bidi override that an agent or an action passed on is shown, not obeyed.
 */
export function terminalLines(text: unknown): string {
  return String(text).replace(CONTROL_CHARACTERS, (c) => (c === '\n' || c === '\t' ? c : escaped(c)));
}
