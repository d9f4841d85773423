import { shellFeature } from './argv-errors.ts';

const ASSIGNMENT = /[A-Za-z_][A-Za-z0-9_]*=/y;
// Reserved words of sh (and bash) that change what a command means when they come first.
const KEYWORDS = new Set(
  '! { } [[ if then else elif fi case esac for select while until do done function in time'.split(' '),
);

// The raw text of the word from index i on (up to the next blank): enough to see a closing `]` or `}`.
const restOfWord = (command: string, i: number) => command.slice(i).split(/\s/, 1)[0];

/**
 * Throws DVM_EXEC_SHELL_SYNTAX for an unquoted character at index i that sh would expand or read differently: a
 * filename pattern (`*`, `?`, `[…]`), a brace expansion (`{a,b}`, `{1..3}`), or a comment (`#` starting a word).
 */
export function checkUnquoted(command: string, i: number, inWord: boolean): void {
  const c = command[i];
  if (c === '*' || c === '?' || (c === '[' && restOfWord(command, i + 1).includes(']'))) {
    throw shellFeature(command, i, 'a filename pattern', c);
  }
  if (c === '{') {
    const inside = restOfWord(command, i + 1).split('}', 2);
    if (inside.length === 2 && (inside[0].includes(',') || inside[0].includes('..'))) {
      throw shellFeature(command, i, 'a brace expansion', '{');
    }
  }
  if (c === '#' && !inWord) throw shellFeature(command, i, 'a comment', '#');
}

/** The `NAME` of an unquoted `NAME=` at index i (where the first word starts): sh reads it as an assignment. */
export function assignmentAt(command: string, i: number): string | undefined {
  ASSIGNMENT.lastIndex = i;
  return ASSIGNMENT.exec(command)?.[0].slice(0, -1);
}

/** The first word, once read: an assignment (`FOO=bar env`) or an unquoted keyword (`if`, `!`) is refused. */
export function checkFirstWord(
  command: string,
  start: number,
  word: string,
  assignment: string | undefined,
  quoted: boolean,
): void {
  if (assignment !== undefined) {
    const value = word.slice(assignment.length + 1);
    throw shellFeature(command, start, 'an environment assignment', `${assignment}=`, {
      alternative: `Set it in the task's \`env: [{name: ${assignment}, value: ${JSON.stringify(value)}}]\` and drop it from the command, or`,
      quotable: false,
    });
  }
  if (!quoted && KEYWORDS.has(word)) {
    throw shellFeature(command, start, 'a shell keyword', word, { quotable: false });
  }
}
