/** Deepest nesting of (), [] and {} a policy may have: Cedar's parser runs out of stack at about 150 levels. */
export const MAX_POLICY_NESTING = 32;

/**
 * Most operators one policy may have (&&, ||, comparisons, arithmetic, `.`, `!`, if, in, has, like, is): Cedar
 * turns each into a level of a tree it walks recursively, and a few thousand overflow its stack.
 */
export const MAX_POLICY_OPERATORS = 256;

const SYMBOLS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '.', '!'];
const KEYWORDS = new Set(['if', 'in', 'has', 'like', 'is']);
const OPEN = '([{';
const CLOSE = ')]}';

/**
 * The first place where Cedar text is shaped beyond what Cedar can take (nesting past MAX_POLICY_NESTING, a
 * policy with more than MAX_POLICY_OPERATORS operators): its offset and why; undefined when it is fine. Strings and
 * `//` comments (to a newline or a carriage return, as Cedar reads them) are skipped; each top-level `;` ends a policy. Checked before Cedar sees the text: past those
 * limits its WebAssembly parser and evaluator trap, which would break every later decision.
 */
export function policyShapeProblem(text: string): { offset: number; message: string } | undefined {
  let depth = 0;
  let operators = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      // Cedar ends a comment at a carriage return as well as at a newline.
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
      continue;
    }
    if (OPEN.includes(c)) {
      if (++depth > MAX_POLICY_NESTING)
        return {
          offset: i,
          message: `it nests parentheses, brackets and braces deeper than ${MAX_POLICY_NESTING} levels`,
        };
      i++;
      continue;
    }
    if (CLOSE.includes(c)) {
      depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (c === ';' && depth === 0) {
      operators = 0;
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
      if (KEYWORDS.has(text.slice(start, i)) && ++operators > MAX_POLICY_OPERATORS)
        return { offset: start, message: tooMany() };
      continue;
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (symbol) {
      if (++operators > MAX_POLICY_OPERATORS) return { offset: i, message: tooMany() };
      i += symbol.length;
      continue;
    }
    i++;
  }
  return undefined;
}

function tooMany(): string {
  return `one policy has more than ${MAX_POLICY_OPERATORS} operators (&&, ||, comparisons, ".", if, …)`;
}
