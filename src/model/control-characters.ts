/**
 * A character that acts on a terminal or reorders what a reader sees rather than print: C0 controls (newline, ESC…),
 * DEL, C1 controls, and the Unicode bidirectional overrides and isolates.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** CONTROL_CHARACTER for replacing every one in a text. */
export const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'g');
