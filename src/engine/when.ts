import { parseWhen, type WhenExpr, type WhenPart, type WhenRef } from './when-parse.ts';

export type { WhenExpr, WhenRef } from './when-parse.ts';
export { parseWhen } from './when-parse.ts';

/** Gives the value of a reference in a `when` condition. */
export type WhenResolver = (ref: WhenRef) => string;

const noReferences: WhenResolver = (ref) => {
  throw new Error(`no value was given for ${ref.text}`);
};

// A lone value is true unless it is empty, "false", "0" or "no" (ignoring case and surrounding space).
const truthy = (value: string) => !['', 'false', '0', 'no'].includes(value.trim().toLowerCase());

function operandValue(parts: WhenPart[], resolve: WhenResolver): string {
  return parts.map((p) => ('ref' in p ? resolve(p.ref) : p.text)).join('');
}

function evaluate(expr: WhenExpr, resolve: WhenResolver): boolean {
  switch (expr.op) {
    case 'value':
      return truthy(operandValue(expr.parts, resolve));
    case '==':
    case '!=': {
      const equal = operandValue(expr.left, resolve) === operandValue(expr.right, resolve);
      return expr.op === '==' ? equal : !equal;
    }
    case '!':
      return !evaluate(expr.expr, resolve);
    case '&&':
      return evaluate(expr.left, resolve) && evaluate(expr.right, resolve);
    case '||':
      return evaluate(expr.left, resolve) || evaluate(expr.right, resolve);
  }
}

/**
 * Evaluates a `when` condition, resolving each reference to its value as an operand (never as condition text, so
 * a value with quotes, spaces or operators compares as itself). `&&` and `||` short-circuit: a reference on the
 * side not evaluated is not resolved. A malformed condition is DVM_SCHEMA_INVALID.
 */
export function evaluateWhen(condition: string | WhenExpr, resolve: WhenResolver = noReferences): boolean {
  return evaluate(typeof condition === 'string' ? parseWhen(condition) : condition, resolve);
}
