import { DvmError } from '../errors/dvm-error.ts';

// The grammar of a `when` condition (usual precedence: `!` binds tightest, then `==`/`!=`, then `&&`, then `||`):
//   or      := and ('||' and)*
//   and     := unary ('&&' unary)*
//   unary   := '!' unary | '(' or ')' | operand (('==' | '!=') operand)?
//   operand := 'single-quoted' | "double-quoted" | bare-word      (each may hold references)
// References ($(tasks.NAME.results.RESULT), $(env.NAME)) are read as parts of an operand here and resolved to
// values only when the condition is evaluated: a value is never parsed, whatever quotes or operators it holds.

/** A reference in a `when` condition: a result of an earlier task, or a variable of the task's environment. */
export type WhenRef =
  | { kind: 'result'; task: string; result: string; text: string }
  | { kind: 'env'; name: string; text: string };

/** Literal text and references that together make one operand's value. */
export type WhenPart = { text: string } | { ref: WhenRef };

/** A parsed `when` condition. */
export type WhenExpr =
  | { op: 'value'; parts: WhenPart[] }
  | { op: '==' | '!='; left: WhenPart[]; right: WhenPart[] }
  | { op: '!'; expr: WhenExpr }
  | { op: '&&' | '||'; left: WhenExpr; right: WhenExpr };

type Token =
  | { type: 'operand'; parts: WhenPart[]; at: number }
  | { type: '==' | '!=' | '&&' | '||' | '!' | '(' | ')' | 'end'; at: number };

const RESULT_REF = /\$\(tasks\.([A-Za-z0-9_.-]+?)\.results\.([A-Za-z0-9_-]+)\)/y;
const ENV_REF = /\$\(env\.([A-Za-z_][A-Za-z0-9_]*)\)/y;
const OPERATORS = ['==', '!=', '&&', '||', '!', '(', ')'] as const;
// Characters that end a bare word.
const BREAK = /[\s'"()!=&|]/;

const FIX =
  "Compare quoted values or references with == and !=, combine with &&, || and ! (parentheses group), like \"'$(tasks.check.results.changed)' == 'yes' && '$(env.BRANCH)' != 'main'\".";

function problem(condition: string, at: number, what: string): DvmError {
  return new DvmError(
    'DVM_SCHEMA_INVALID',
    `cannot read the condition ${JSON.stringify(condition)}: ${what} at column ${at + 1}`,
    { path: 'spec.when', fix: FIX, details: { origin: 'user', column: at + 1 } },
  );
}

// The reference starting at `at` (which holds `$(`), and where it ends.
function refAt(condition: string, at: number): [WhenRef, number] {
  RESULT_REF.lastIndex = at;
  const result = RESULT_REF.exec(condition);
  if (result) {
    return [{ kind: 'result', task: result[1], result: result[2], text: result[0] }, RESULT_REF.lastIndex];
  }
  ENV_REF.lastIndex = at;
  const env = ENV_REF.exec(condition);
  if (env) return [{ kind: 'env', name: env[1], text: env[0] }, ENV_REF.lastIndex];
  throw problem(condition, at, 'a reference other than $(tasks.NAME.results.RESULT) or $(env.NAME)');
}

// The parts of text from `start` until `stop` says to end (or the text ends); returns them and the end index.
function readParts(condition: string, start: number, stop: (c: string) => boolean): [WhenPart[], number] {
  const parts: WhenPart[] = [];
  let text = '';
  let i = start;
  while (i < condition.length && !stop(condition[i])) {
    if (condition.startsWith('$(', i)) {
      const [ref, next] = refAt(condition, i);
      if (text) parts.push({ text });
      text = '';
      parts.push({ ref });
      i = next;
    } else text += condition[i++];
  }
  if (text || parts.length === 0) parts.push({ text });
  return [parts, i];
}

function tokenize(condition: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < condition.length) {
    const c = condition[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => condition.startsWith(o, i));
    if (op) {
      tokens.push({ type: op, at: i });
      i += op.length;
    } else if (c === "'" || c === '"') {
      const [parts, end] = readParts(condition, i + 1, (x) => x === c);
      if (end >= condition.length) throw problem(condition, i, `an unterminated quote (${c})`);
      tokens.push({ type: 'operand', parts, at: i });
      i = end + 1;
    } else if (c === '=' || c === '&' || c === '|') {
      const fix = c === '=' ? 'write == to compare' : `write ${c}${c}`;
      throw problem(condition, i, `a lone ${c} (${fix})`);
    } else {
      const [parts, end] = readParts(condition, i, (x) => BREAK.test(x));
      tokens.push({ type: 'operand', parts, at: i });
      i = end;
    }
  }
  tokens.push({ type: 'end', at: condition.length });
  return tokens;
}

/** Parses a `when` condition; one that cannot be read is DVM_SCHEMA_INVALID naming the column. */
export function parseWhen(condition: string): WhenExpr {
  const tokens = tokenize(condition);
  let next = 0;
  const peek = () => tokens[next];
  const describe = (t: Token) => (t.type === 'end' ? 'the end' : t.type === 'operand' ? 'a value' : t.type);
  const expect = (type: Token['type'], wanted: string) => {
    const t = peek();
    if (t.type !== type) throw problem(condition, t.at, `${wanted} expected, found ${describe(t)}`);
    next++;
    return t;
  };
  const binary = (op: '&&' | '||', operand: () => WhenExpr): WhenExpr => {
    let left = operand();
    while (peek().type === op) {
      next++;
      left = { op, left, right: operand() };
    }
    return left;
  };
  const or = (): WhenExpr => binary('||', () => binary('&&', unary));
  const unary = (): WhenExpr => {
    const t = peek();
    if (t.type === '!') {
      next++;
      return { op: '!', expr: unary() };
    }
    if (t.type === '(') {
      next++;
      const inner = or();
      expect(')', 'a closing parenthesis');
      return inner;
    }
    const left = expect('operand', 'a value') as { parts: WhenPart[] };
    const op = peek().type;
    if (op !== '==' && op !== '!=') return { op: 'value', parts: left.parts };
    next++;
    const right = expect('operand', `a value after ${op}`) as { parts: WhenPart[] };
    return { op, left: left.parts, right: right.parts };
  };
  const expr = or();
  const rest = peek();
  if (rest.type !== 'end')
    throw problem(condition, rest.at, `${describe(rest)} where the condition should end`);
  return expr;
}
