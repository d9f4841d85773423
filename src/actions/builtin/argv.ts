import { DvmError } from '../../errors/dvm-error.ts';

/** Options of splitCommand. */
export interface SplitOptions {
  /**
   * Keep `$(tasks.NAME.results.RESULT)` references as literal text (default true): they are dvm's own syntax,
   * substituted into one argv element after splitting, never shell syntax. With false they are errors like any `$(`.
   */
  resultRefs?: boolean;
}

// The same reference syntax as src/engine/results.ts, anchored at one position.
const RESULT_REF = /\$\(tasks\.[A-Za-z0-9_.-]+?\.results\.[A-Za-z0-9_-]+\)/y;
// After `$`, these start an expansion in sh (or bash: $'…', $"…"); anything else leaves the `$` literal.
const EXPANSION_START = /[A-Za-z0-9_{(@*#?$!'"-]/;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * Splits a command string into argv with POSIX shell quoting and no shell features: whitespace separates words,
 * single quotes are literal, double quotes allow backslash escapes of `"` `\` `$` and backtick, a backslash
 * outside quotes escapes any character, and adjacent parts join into one word (`a'b'"c"` is `abc`, `''` is an
 * empty argument). Unquoted operators (`| & ; < > ( )`), command substitution, variables, a leading `~` and a
 * newline between commands are shell features: they throw DVM_EXEC_SHELL_SYNTAX suggesting `shell:`, so a command
 * never means something else than what a shell would run.
 */
export function splitCommand(command: string, options: SplitOptions = {}): string[] {
  const resultRefs = options.resultRefs ?? true;
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = command.length;
  while (i < n) {
    const c = command[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      // A newline followed by more words separates commands in sh; trailing newlines (YAML `|`) are harmless.
      if (c === '\n' && /\S/.test(command.slice(i + 1))) throw shellFeature(command, i, 'a newline', '\\n');
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
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
      }
      i += 2;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw unterminated(command, i, 'single quote', "'");
      word += command.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const [text, next] = readDoubleQuoted(command, i, resultRefs);
      word += text;
      inWord = true;
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
      throw shellFeature(command, i, 'a home-directory tilde', '~', 'Write the path out in full, or');
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
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
      throw shellFeature(command, i, 'a command substitution', '`', undefined, ' inside double quotes');
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

function operatorFeature(command: string, i: number): DvmError {
  const c = command[i];
  const pair = command.slice(i, i + 2);
  if (pair === '||') return shellFeature(command, i, 'an or-list', '||');
  if (pair === '&&') return shellFeature(command, i, 'an and-list', '&&');
  if (pair === '>>') return shellFeature(command, i, 'an append redirection', '>>');
  if (pair === '<<') return shellFeature(command, i, 'a here-document', '<<');
  if (pair === '&>') return shellFeature(command, i, 'a redirection', '&>');
  const names: Record<string, string> = {
    '|': 'a pipe',
    '&': 'a background job',
    ';': 'a command separator',
    '<': 'an input redirection',
    '>': 'an output redirection',
    '(': 'a subshell parenthesis',
    ')': 'a subshell parenthesis',
  };
  return shellFeature(command, i, names[c], c);
}

function dollarFeature(command: string, i: number, where = ''): DvmError {
  const next = command[i + 1];
  if (next === '(') return shellFeature(command, i, 'a command substitution', '$(', undefined, where);
  if (next === '{') return shellFeature(command, i, 'a parameter expansion', '${', undefined, where);
  NAME.lastIndex = i + 1;
  const name = NAME.exec(command)?.[0];
  if (name) return shellFeature(command, i, 'a variable', `$${name}`, undefined, where);
  return shellFeature(command, i, 'a shell expansion', `$${next}`, undefined, where);
}

/** `column N`, or `line L, column N` in a command of several lines (both 1-based). */
function position(command: string, index: number): string {
  const lineStart = command.lastIndexOf('\n', index - 1) + 1;
  const column = index - lineStart + 1;
  if (lineStart === 0) return `column ${column}`;
  const line = command.slice(0, lineStart).split('\n').length;
  return `line ${line}, column ${column}`;
}

function shellFeature(
  command: string,
  index: number,
  feature: string,
  token: string,
  alternative?: string,
  where = '',
): DvmError {
  const literal = token === '\\n' ? '' : ` or quote it ('${token}') to pass it literally,`;
  return new DvmError(
    'DVM_EXEC_SHELL_SYNTAX',
    `command uses ${feature} (${token})${where} at ${position(command, index)}; dvm runs commands without a shell — use \`shell: "…"\` to run it with /bin/sh`,
    {
      fix: `${alternative ? `${alternative} w` : 'W'}rite \`shell: ${JSON.stringify(command)}\` instead of \`command:\` to run it with /bin/sh,${literal} or give command as a list of arguments.`,
      column: index + 1,
      details: { origin: 'user', feature, token, index },
    },
  );
}

function unterminated(command: string, index: number, what: string, quote: string): DvmError {
  return syntaxError(
    command,
    index,
    `has an unterminated ${what} (${quote}) opened`,
    `Close the quote, or escape it with a backslash (\\${quote}) to pass it literally.`,
  );
}

function syntaxError(command: string, index: number, problem: string, fix: string): DvmError {
  return new DvmError('DVM_EXEC_SHELL_SYNTAX', `command ${problem} at ${position(command, index)}`, {
    fix,
    column: index + 1,
    details: { origin: 'user', index },
  });
}
