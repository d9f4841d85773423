import { DvmError } from '../errors/dvm-error.ts';

// A `when` condition is one comparison or one operand, after $(tasks…) substitution:
//   "'$(tasks.test.results.coverage)' == '100'"   "'$(env.BRANCH)' != 'main'"   "'$(tasks.check.results.changed)'"
// Operands are quoted strings or bare words; a bare operand is true unless empty, "false", "0" or "no".
const COMPARISON =
  /^\s*('(?:[^']*)'|"(?:[^"]*)"|[^\s=!]+)\s*(==|!=)\s*('(?:[^']*)'|"(?:[^"]*)"|[^\s=!]+)\s*$/;
const SINGLE = /^\s*('(?:[^']*)'|"(?:[^"]*)"|[^\s=!]*)\s*$/;

function unquote(operand: string): string {
  return /^(['"]).*\1$/.test(operand) ? operand.slice(1, -1) : operand;
}

/** Evaluates a (substituted) `when` condition; a malformed one is a coded error. */
export function evaluateWhen(condition: string): boolean {
  const comparison = condition.match(COMPARISON);
  if (comparison) {
    const equal = unquote(comparison[1]) === unquote(comparison[3]);
    return comparison[2] === '==' ? equal : !equal;
  }
  const single = condition.match(SINGLE);
  if (single) return !['', 'false', '0', 'no'].includes(unquote(single[1]).trim().toLowerCase());
  throw new DvmError('DVM_SCHEMA_INVALID', `cannot read the condition ${JSON.stringify(condition)}`, {
    path: 'spec.when',
    fix: "Write one comparison, like \"'$(tasks.test.results.status)' == 'ok'\", or a single value.",
  });
}
