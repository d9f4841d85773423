import { safeRegex } from 'safe-regex2';

/** Longest text one `redact.patterns` scan runs on; longer text is scanned in windows of this size. */
export const PATTERN_WINDOW = 1024;

// Most ways a pattern may try one start position (the product of its quantifiers' ranges, a window's length at most
// each): about two unbounded quantifiers, like `\d+\d+x` (0.15 s on one window of digits; `.*a.*a.*b` takes 40 s).
const MAX_WAYS = 4 * (PATTERN_WINDOW + 1) ** 2;

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
 * One pass over `source`: whether a group that contains `|` (at any depth) is repeated; how many ways its quantifiers
 * allow together; and the source rewritten for ret (a lookbehind as a lookahead, a modifier group as a plain group:
 * the same nesting of quantifiers).
 */
function scan(source: string): { repeatedAlternation: boolean; ways: number; readable: string } {
  const groups: boolean[] = []; // per open group: it contains `|`
  let readable = '';
  let repeatedAlternation = false;
  let ways = 1;
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
      ways *= Math.min(q.max - q.min + 1, PATTERN_WINDOW + 1);
      if (alternation && q.max > 1) repeatedAlternation = true;
    }
    if (alternation && groups.length) groups[groups.length - 1] = true;
    i = end;
  }
  return { repeatedAlternation, ways, readable };
}

/** How to rewrite a pattern backtrackingRisk refuses. */
export const BACKTRACKING_FIX =
  'Rewrite it so that text can match it in few ways: no quantifier inside a repeated or optional group ' +
  '((a+)+ → a+, (\\w+\\s?)* → [\\w\\s]*), no alternatives in a repeated group ((a|b)+ → [ab]+), at most two ' +
  'unbounded quantifiers (\\s*=\\s*\\S+ → \\s{0,4}=\\s{0,4}\\S+, eyJ[\\w-]+\\.[\\w-]+\\.[\\w-]+ → eyJ[\\w.-]{20,}). ' +
  'A secret usually fits a fixed prefix and one character class, like sk_live_[A-Za-z0-9]{24,}.';

/**
 * Why matching `source` (a JavaScript regular expression) can take exponential or high polynomial time, or
 * undefined. Refused: a quantifier inside a repeated or optional group (`(a+)+`, `(\w+\s?)*`, `(.*a){20}`,
 * `(?:x{8})?`) and more than 25 quantifiers — safe-regex2's star-height check; a repeated group with alternatives
 * (`(a|aa)+`, `(a|b)*`), which safe-regex2 lets through; more than about two quantifiers of unbounded range
 * (`.*a.*a.*b`), bounded ones counted by their width. Conservative: some safe shapes are refused too
 * (`(?:foo|bar)+`, `\s*=\s*\S+`). Not caught: backreferences. createRedactor's windows and deadline bound the rest.
 */
export function backtrackingRisk(source: string): string | undefined {
  const { repeatedAlternation, ways, readable } = scan(source);
  if (repeatedAlternation) return 'a repeated group has alternatives, like (a|aa)+';
  if (!safeRegex(readable)) return 'it nests quantifiers, like (a+)+, or has more than 25 of them';
  if (ways > MAX_WAYS) return 'more than two of its quantifiers have a wide range, like .*a.*a.*b';
  return undefined;
}
