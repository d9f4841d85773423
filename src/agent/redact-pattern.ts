import { safeRegex } from 'safe-regex2';

// `(?` group openings. safe-regex2's parser (ret) reads neither lookbehinds nor modifier groups like `(?i:…)`.
const GROUP_OPENING = /\(\?(?:<([=!])|([imsx-]+):|[:=!]|<[A-Za-z_$][\w$]*>)/y;
const QUANTIFIER = /[*+?]|\{(\d+)(,(\d*))?\}/y;

/** The quantifier at `at`, if any: its least and most repetitions and its text (a lazy `?` included). */
function quantifierAt(source: string, at: number): { min: number; max: number; text: string } | undefined {
  QUANTIFIER.lastIndex = at;
  const m = QUANTIFIER.exec(source);
  if (!m) return undefined;
  const text = source[at + m[0].length] === '?' ? `${m[0]}?` : m[0];
  if (m[1] === undefined) return { min: m[0] === '+' ? 1 : 0, max: m[0] === '?' ? 1 : Infinity, text };
  const min = Number(m[1]);
  return { min, max: m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]), text };
}

/**
 * One pass over `source`: whether a group that contains `|` (at any depth) is repeated, and the source rewritten
 * for ret (a lookbehind as a lookahead, a modifier group as a plain group: the same nesting of quantifiers).
 */
function scan(source: string): { repeatedAlternation: boolean; readable: string } {
  const groups: boolean[] = []; // per open group: it contains `|`
  let readable = '';
  let repeatedAlternation = false;
  for (let i = 0; i < source.length; ) {
    const c = source[i];
    if (c === '(') {
      groups.push(false);
      GROUP_OPENING.lastIndex = i;
      const m = GROUP_OPENING.exec(source);
      readable += m?.[1] ? `(?${m[1]}` : m?.[2] ? '(?:' : (m?.[0] ?? '(');
      i += m?.[0].length ?? 1;
      continue;
    }
    if (c === '|' && groups.length) groups[groups.length - 1] = true;
    let end = i + 1; // the atom ends before `end`
    if (c === '\\') end = i + 2;
    else if (c === '[') {
      // A class ends at its first unescaped `]` (`[]` is empty, `[^]` any character).
      while (end < source.length && source[end] !== ']') end += source[end] === '\\' ? 2 : 1;
      end++;
    }
    readable += source.slice(i, end);
    const alternation = c === ')' && groups.pop() === true;
    const q = quantifierAt(source, end);
    if (q) {
      readable += q.text;
      end += q.text.length;
      if (alternation && q.max > 1) repeatedAlternation = true;
    }
    if (alternation && groups.length) groups[groups.length - 1] = true;
    i = end;
  }
  return { repeatedAlternation, readable };
}

/** How to rewrite a pattern backtrackingRisk refuses. */
export const BACKTRACKING_FIX =
  'Rewrite it so that text can match it in few ways: no quantifier inside a repeated or optional group ' +
  '((a+)+ → a+, (\\w+\\s?)* → [\\w\\s]*), no alternatives in a repeated group ((a|b)+ → [ab]+). ' +
  'A secret usually fits a fixed prefix and one character class, like sk_live_[A-Za-z0-9]{24,}.';

/**
 * Why matching `source` (a JavaScript regular expression) can take exponential time, or undefined. Refused: a
 * quantifier inside a repeated or optional group (`(a+)+`, `(\w+\s?)*`, `(.*a){20}`, `(?:x{8})?`) and more than 25
 * quantifiers — safe-regex2's star-height check; a repeated group with alternatives (`(a|aa)+`, `(a|b)*`), which
 * safe-regex2 lets through. Conservative: `(?:foo|bar)+` is refused too. Not caught: polynomial shapes
 * (`.*a.*a.*b`) and backreferences; the time budget of createRedactor's scanner bounds those at run time.
 */
export function backtrackingRisk(source: string): string | undefined {
  const { repeatedAlternation, readable } = scan(source);
  if (repeatedAlternation) return 'a repeated group has alternatives, like (a|aa)+';
  if (!safeRegex(readable)) return 'it nests quantifiers, like (a+)+, or has more than 25 of them';
  return undefined;
}
