import { DvmError } from '../errors/dvm-error.ts';

/** A `shell:` script whose result references became variable expansions, and the variables' values. */
export interface BoundScript {
  script: string;
  env: Record<string, string>;
}

/** Where in a script a reference stands, which decides how its variable is expanded. */
export type ShellContext = 'plain' | 'double' | 'heredoc';

const RESULT_REF = /\$\(tasks\.([A-Za-z0-9_.-]+?)\.results\.([A-Za-z0-9_-]+)\)/y;
const ANY_RESULT_REF = new RegExp(RESULT_REF.source);
// Characters before which a `#` starts a comment (a `#` inside a word is literal).
const TOKEN_START = /[\s;&|()<>]/;
const WORD_END = /[\s;&|()<>]/;

// Lines where bash (as /bin/sh on some systems) may evaluate a variable's value as an arithmetic expression.
const BASH_ARITHMETIC_LINE = /\(\(|\[\[|(^|[\s;&|(])(let|declare|typeset)\s|(^|[\s;&|(])local\s+-[A-Za-z]*i/;

// `${name[` (an array subscript) or `${name:` not followed by - = ? + (a substring offset): both arithmetic in bash.
const SUBSCRIPT_OR_OFFSET = /^[A-Za-z_][A-Za-z0-9_]*(\[|:(?![-=?+]))/;

// A nesting level of plain shell text: the script itself, or the inside of `$(…)`, `${…}` or `…`.
interface Frame {
  kind: 'plain' | 'double';
  closer?: ')' | '}' | '`';
  parens: number;
  /** Inside `$((…))`, where `<<` is a shift, not a here-document. */
  arith?: boolean;
  /** Where a `${…}` frame starts (its `$`), to tell an array subscript (`${a[…]}`) from a default value. */
  braceAt?: number;
}

interface HereDoc {
  delimiter: string;
  quoted: boolean;
  stripTabs: boolean;
}

/** How a variable is written so that its value stays one literal string in each quoting context. */
export function expansion(name: string, context: ShellContext): string {
  if (context === 'plain') return `"\${${name}}"`;
  return `\${${name}}`;
}

/**
 * Rewrites each `$(tasks.NAME.results.RESULT)` of a /bin/sh script into the expansion of a variable that holds its
 * value (`DVM_RESULT_1`, …, one per distinct reference), chosen by the quoting context at that point: `"${V}"`
 * outside quotes, `${V}` inside double quotes and here-documents. A value thus never becomes script text, whatever
 * it holds. References in comments stay as written. DVM_RESULT_REF for a reference where a value could still
 * become code or cannot be expanded: inside single quotes, in a bash arithmetic context, in a here-document with a
 * quoted delimiter. `lookup` gives each value.
 */
export function bindShellReferences(
  script: string,
  lookup: (task: string, result: string) => string,
): BoundScript {
  const env: Record<string, string> = {};
  const names = new Map<string, string>();
  const bind = (text: string, task: string, result: string, context: ShellContext) => {
    let name = names.get(text);
    if (!name) {
      name = `DVM_RESULT_${names.size + 1}`;
      names.set(text, name);
      env[name] = lookup(task, result);
    }
    return expansion(name, context);
  };
  return { script: scan(script, bind), env };
}

/** The quoting context of every result reference of a script, in order (what bindShellReferences would use). */
export function shellReferenceContexts(script: string): { text: string; context: ShellContext }[] {
  const found: { text: string; context: ShellContext }[] = [];
  scan(script, (text, _task, _result, context) => {
    found.push({ text, context });
    return text;
  });
  return found;
}

type Bind = (text: string, task: string, result: string, context: ShellContext) => string;

// The frame that `$(`, `$((` or `${` at i opens.
function opened(script: string, i: number): Frame {
  if (script[i + 1] === '{') return { kind: 'plain', closer: '}', parens: 0, braceAt: i };
  return { kind: 'plain', closer: ')', parens: 0, arith: script[i + 2] === '(' };
}

function refAt(script: string, i: number): RegExpExecArray | null {
  if (script[i] !== '$') return null;
  RESULT_REF.lastIndex = i;
  return RESULT_REF.exec(script);
}

function scan(script: string, bind: Bind): string {
  let out = '';
  let i = 0;
  const n = script.length;
  const stack: Frame[] = [{ kind: 'plain', parens: 0 }];
  const pending: HereDoc[] = [];
  while (i < n) {
    const frame = stack[stack.length - 1];
    const c = script[i];
    const ref = refAt(script, i);
    if (ref) {
      refuseArithmetic(script, i, ref[0], stack);
      out += bind(ref[0], ref[1], ref[2], frame.kind);
      i += ref[0].length;
    } else if (c === '\\') {
      out += script.slice(i, i + 2);
      i += 2;
    } else if (frame.kind === 'double') {
      if (c === '"') stack.pop();
      else if (c === '`') stack.push({ kind: 'plain', closer: '`', parens: 0 });
      else if (script.startsWith('$(', i) || script.startsWith('${', i)) {
        stack.push(opened(script, i));
        out += c;
        i++;
      }
      out += script[i];
      i++;
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end < 0 ? n : end + 1;
      refuseSingleQuoted(script.slice(i, stop));
      out += script.slice(i, stop);
      i = stop;
    } else if (c === '#' && frame.braceAt === undefined && (i === 0 || TOKEN_START.test(script[i - 1]))) {
      const end = script.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += script.slice(i, stop);
      i = stop;
    } else if (c === '\n' && pending.length > 0) {
      out += c;
      i++;
      for (const doc of pending.splice(0)) {
        const [body, next] = hereDocBody(script, i, doc);
        out += body.length && doc.quoted ? refuseQuoted(body, doc) : replaceIn(body, 'heredoc', bind);
        i = next;
      }
    } else if (script.startsWith('<<', i) && !script.startsWith('<<<', i) && !frame.arith) {
      const [doc, next] = hereDocStart(script, i);
      if (doc) pending.push(doc);
      out += script.slice(i, next);
      i = next;
    } else {
      if (c === '"') stack.push({ kind: 'double', parens: 0 });
      else if (c === '`' && frame.closer === '`') stack.pop();
      else if (c === '`') stack.push({ kind: 'plain', closer: '`', parens: 0 });
      else if (script.startsWith('$(', i) || script.startsWith('${', i)) {
        stack.push(opened(script, i));
        out += c;
        i++;
      } else if (c === '(') frame.parens++;
      else if (c === ')' && frame.parens > 0) frame.parens--;
      else if ((c === ')' || c === '}') && frame.closer === c && stack.length > 1) stack.pop();
      out += script[i];
      i++;
    }
  }
  return out;
}

// Replaces the references in a here-document body (one context throughout); a backslash before `$` keeps the `$`
// literal.
function replaceIn(text: string, context: 'heredoc', bind: Bind): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ref = refAt(text, i);
    if (ref) {
      out += bind(ref[0], ref[1], ref[2], context);
      i += ref[0].length;
    } else if (context === 'heredoc' && text[i] === '\\') {
      out += text.slice(i, i + 2);
      i += 2;
    } else out += text[i++];
  }
  return out;
}

// Reads `<<WORD` or `<<-WORD` at i; returns the here-document it announces and the index after the word.
function hereDocStart(script: string, i: number): [HereDoc | undefined, number] {
  let j = i + 2;
  const stripTabs = script[j] === '-';
  if (stripTabs) j++;
  while (script[j] === ' ' || script[j] === '\t') j++;
  let word = '';
  let quoted = false;
  while (j < script.length && !WORD_END.test(script[j])) {
    const c = script[j];
    if (c === "'" || c === '"') {
      quoted = true;
      const end = script.indexOf(c, j + 1);
      const stop = end < 0 ? script.length : end;
      word += script.slice(j + 1, stop);
      j = stop + 1;
    } else if (c === '\\') {
      quoted = true;
      word += script[j + 1] ?? '';
      j += 2;
    } else {
      word += c;
      j++;
    }
  }
  return [word ? { delimiter: word, quoted, stripTabs } : undefined, j];
}

// The body of a here-document starting at i, up to and including its delimiter line, and the index after it.
function hereDocBody(script: string, i: number, doc: HereDoc): [string, number] {
  let j = i;
  while (j < script.length) {
    const end = script.indexOf('\n', j);
    const stop = end < 0 ? script.length : end;
    const line = script.slice(j, stop);
    j = end < 0 ? stop : stop + 1;
    if ((doc.stripTabs ? line.replace(/^\t+/, '') : line) === doc.delimiter) break;
  }
  return [script.slice(i, j), j];
}

function refuseQuoted(body: string, doc: HereDoc): string {
  const ref = ANY_RESULT_REF.exec(body);
  if (!ref) return body;
  throw new DvmError(
    'DVM_RESULT_REF',
    `${ref[0]} stands in a here-document with a quoted delimiter (<<'${doc.delimiter}'), which expands nothing, so no value can be put there`,
    {
      path: 'spec.shell',
      fix: `Unquote the delimiter (<<${doc.delimiter}) to have the reference expanded, or assign it to a variable before the here-document.`,
      details: { origin: 'user' },
    },
  );
}

// Shells that evaluate arithmetic (bash as /bin/sh) read variables inside `$((…))` and array subscripts as
// expressions, which can run commands: a value must never stand there, so such a reference is refused.
function refuseArithmetic(script: string, at: number, text: string, stack: readonly Frame[]): void {
  const lineStart = script.lastIndexOf('\n', at - 1) + 1;
  const lineEnd = script.indexOf('\n', at);
  const line = script.slice(lineStart, lineEnd < 0 ? script.length : lineEnd);
  const where = stack.find((f) => f.arith)
    ? 'an arithmetic expansion $((…))'
    : stack.some((f) => f.braceAt !== undefined && SUBSCRIPT_OR_OFFSET.test(script.slice(f.braceAt + 2, at)))
      ? `an array subscript or substring offset (\${name[…]}, \${name:…})`
      : BASH_ARITHMETIC_LINE.test(line)
        ? 'a line with a bash arithmetic or test command ((( )), [[ ]], let, declare, typeset, local -i)'
        : undefined;
  if (!where) return;
  throw new DvmError(
    'DVM_RESULT_REF',
    `${text} stands in ${where}, where a shell evaluates it as an expression`,
    {
      path: 'spec.shell',
      fix: 'Check the value first and assign it to a variable, like n="$(tasks.NAME.results.R)"; case $n in *[!0-9]*) exit 1;; esac; echo $((n + 1)).',
      details: { origin: 'user' },
    },
  );
}

// Single-quoted text is often a script for another program (`sh -c '…'`, `ssh host '…'`, awk, sed): a value put
// there would become that program's code, so a reference in it is refused.
function refuseSingleQuoted(text: string): void {
  const ref = ANY_RESULT_REF.exec(text);
  if (!ref) return;
  throw new DvmError(
    'DVM_RESULT_REF',
    `${ref[0]} stands inside single quotes, which often hold a script for another program (sh -c '…', ssh, awk), where a value would become code`,
    {
      path: 'spec.shell',
      fix: `Write it in double quotes ("…${ref[0]}…"), or pass it to the other program as an argument or variable: sh -c 'echo "$1"' sh "${ref[0]}".`,
      details: { origin: 'user' },
    },
  );
}
