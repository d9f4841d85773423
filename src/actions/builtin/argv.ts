import { dollarFeature, operatorFeature, shellFeature, syntaxError, unterminated } from './argv-errors.ts';
import { assignmentAt, checkFirstWord, checkUnquoted } from './argv-words.ts';

/** Options of splitCommand. */
export interface SplitOptions {
  /**
   * Keep `$(tasks.NAME.results.RESULT)` references as literal text (default true): they are dvm's own syntax,
   * substituted into one argv element after splitting, never shell syntax. With false they are errors like any `$(`.
   */
  resultRefs?: boolean;
  /**
   * Refuse what sh would expand or read differently in a word — filename patterns, brace expansions, a comment, a
   * leading `NAME=value`, a keyword — (default true). False for templates no shell ever reads (Redis commands,
   * where `*` is a key pattern).
   */
  expansions?: boolean;
}

// The same reference syntax as src/engine/results.ts, anchored at one position.
const RESULT_REF = /\$\(tasks\.[A-Za-z0-9_.-]+?\.results\.[A-Za-z0-9_-]+\)/y;
// After `$`, these start an expansion in sh (or bash: $'…', $"…"); anything else leaves the `$` literal.
const EXPANSION_START = /[A-Za-z0-9_{(@*#?$!'"-]/;

/**
 * Splits a command string into argv with POSIX shell quoting and no shell features: whitespace separates words,
 * single quotes are literal, double quotes allow backslash escapes of `"` `\` `$` and backtick, a backslash
 * outside quotes escapes any character, and adjacent parts join into one word (`a'b'"c"` is `abc`, `''` is an
 * empty argument). Unquoted operators (`| & ; < > ( )`), command substitution, variables, a leading `~`, a
 * newline between commands, filename patterns (`* ? [..]`), brace expansions, a `#` comment, a leading `NAME=value`
 * and keywords are shell features: they throw DVM_EXEC_SHELL_SYNTAX suggesting `shell:`, so a command never means
 * something else than what a shell would run. Quoted, they are literal.
 */
export function splitCommand(command: string, options: SplitOptions = {}): string[] {
  const resultRefs = options.resultRefs ?? true;
  const expansions = options.expansions ?? true;
  const words: string[] = [];
  let word = '';
  let inWord = false;
  // The current word: where it starts, whether any part of it is quoted, the NAME of a leading `NAME=`.
  let start = 0;
  let quoted = false;
  let assignment: string | undefined;
  const push = () => {
    if (expansions && words.length === 0) checkFirstWord(command, start, word, assignment, quoted);
    words.push(word);
    word = '';
    inWord = false;
  };
  let i = 0;
  const n = command.length;
  while (i < n) {
    const c = command[i];
    const blank = c === ' ' || c === '\t' || c === '\r' || c === '\n';
    if (!inWord && !blank) {
      start = i;
      quoted = false;
      assignment = expansions && words.length === 0 ? assignmentAt(command, i) : undefined;
    }
    if (blank) {
      // A newline followed by more words separates commands in sh; trailing newlines (YAML `|`) are harmless.
      if (c === '\n' && /\S/.test(command.slice(i + 1))) throw shellFeature(command, i, 'a newline', '\\n');
      if (inWord) push();
      i++;
    } else if (c === '\\') {
      if (i + 1 >= n)
        throw syntaxError(
          command,
          i,
          'ends with a backslash that escapes nothing',
          'Remove it, or write \\\\ for a literal backslash.',
        );
      // Backslash-newline continues the line (and is removed), as in sh.
      if (command[i + 1] !== '\n') {
        word += command[i + 1];
        inWord = true;
        quoted = true;
      }
      i += 2;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw unterminated(command, i, 'single quote', "'");
      word += command.slice(i + 1, end);
      inWord = true;
      quoted = true;
      i = end + 1;
    } else if (c === '"') {
      const [text, next] = readDoubleQuoted(command, i, resultRefs);
      word += text;
      inWord = true;
      quoted = true;
      i = next;
    } else if (c === '$') {
      const ref = resultRefs ? resultRefAt(command, i) : undefined;
      if (ref) {
        word += ref;
        inWord = true;
        i += ref.length;
      } else {
        if (i + 1 < n && EXPANSION_START.test(command[i + 1])) throw dollarFeature(command, i);
        word += c;
        inWord = true;
        i++;
      }
    } else if (c === '`') {
      throw shellFeature(command, i, 'a command substitution', '`');
    } else if (c === '|' || c === '&' || c === ';' || c === '<' || c === '>' || c === '(' || c === ')') {
      throw operatorFeature(command, i);
    } else if (c === '~' && !inWord) {
      throw shellFeature(command, i, 'a home-directory tilde', '~', {
        alternative: 'Write the path out in full, or',
      });
    } else {
      if (expansions) checkUnquoted(command, i, inWord);
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) push();
  return words;
}

// Reads a double-quoted part starting at the opening quote; returns its text and the index after the closing quote.
function readDoubleQuoted(command: string, start: number, resultRefs: boolean): [string, number] {
  let text = '';
  let i = start + 1;
  const n = command.length;
  while (i < n) {
    const c = command[i];
    if (c === '"') return [text, i + 1];
    if (c === '\\' && i + 1 < n) {
      const next = command[i + 1];
      if (next === '"' || next === '\\' || next === '$' || next === '`') text += next;
      else if (next !== '\n') text += `\\${next}`;
      i += 2;
    } else if (c === '$') {
      const ref = resultRefs ? resultRefAt(command, i) : undefined;
      if (ref) {
        text += ref;
        i += ref.length;
        continue;
      }
      const next = command[i + 1];
      if (next !== undefined && next !== '"' && next !== "'" && EXPANSION_START.test(next)) {
        throw dollarFeature(command, i, ' inside double quotes');
      }
      text += c;
      i++;
    } else if (c === '`') {
      throw shellFeature(command, i, 'a command substitution', '`', { where: ' inside double quotes' });
    } else {
      text += c;
      i++;
    }
  }
  throw unterminated(command, start, 'double quote', '"');
}

function resultRefAt(command: string, index: number): string | undefined {
  RESULT_REF.lastIndex = index;
  return RESULT_REF.exec(command)?.[0];
}
