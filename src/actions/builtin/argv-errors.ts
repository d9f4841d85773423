import { DvmError } from '../../errors/dvm-error.ts';

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/** How a shell-feature error words its fix. */
export interface FeatureOptions {
  /** A first alternative to `shell:`, ending in ", or" (like "Write the path out in full, or"). */
  alternative?: string;
  /** Where the feature stands, like " inside double quotes". */
  where?: string;
  /** Whether quoting the token passes it literally (default true). */
  quotable?: boolean;
}

/** The error for an unquoted shell operator (`| & ; < > ( )`, `&&`, `>>`, …) at index i. */
export function operatorFeature(command: string, i: number): DvmError {
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

/** The error for a `$` expansion (command substitution, parameter, variable) at index i. */
export function dollarFeature(command: string, i: number, where = ''): DvmError {
  const next = command[i + 1];
  if (next === '(') return shellFeature(command, i, 'a command substitution', '$(', { where });
  if (next === '{') return shellFeature(command, i, 'a parameter expansion', '${', { where });
  NAME.lastIndex = i + 1;
  const name = NAME.exec(command)?.[0];
  if (name) return shellFeature(command, i, 'a variable', `$${name}`, { where });
  return shellFeature(command, i, 'a shell expansion', `$${next}`, { where });
}

/** `column N`, or `line L, column N` in a command of several lines (both 1-based). */
function position(command: string, index: number): string {
  const lineStart = command.lastIndexOf('\n', index - 1) + 1;
  const column = index - lineStart + 1;
  if (lineStart === 0) return `column ${column}`;
  const line = command.slice(0, lineStart).split('\n').length;
  return `line ${line}, column ${column}`;
}

/** The error for a shell feature at index i of a command string: what it is, where, and to use `shell:`. */
export function shellFeature(
  command: string,
  index: number,
  feature: string,
  token: string,
  options: FeatureOptions = {},
): DvmError {
  const { alternative, where = '', quotable = true } = options;
  const literal = quotable && token !== '\\n' ? ` or quote it ('${token}') to pass it literally,` : '';
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

/** The error for a quote that is never closed. */
export function unterminated(command: string, index: number, what: string, quote: string): DvmError {
  return syntaxError(
    command,
    index,
    `has an unterminated ${what} (${quote}) opened`,
    `Close the quote, or escape it with a backslash (\\${quote}) to pass it literally.`,
  );
}

/** A command string that does not split (a dangling quote or backslash). */
export function syntaxError(command: string, index: number, problem: string, fix: string): DvmError {
  return new DvmError('DVM_EXEC_SHELL_SYNTAX', `command ${problem} at ${position(command, index)}`, {
    fix,
    column: index + 1,
    details: { origin: 'user', index },
  });
}
