import { DvmError } from '../errors/dvm-error.ts';
import {
  afterSecretLine,
  contentStart,
  continuesSecret,
  isKeyBodyLine,
  LINE_TAG_AND_TIME,
  SECRET_KEY_NAME,
  type SecretOpening,
  secretOpening,
} from '../model/secret-lines.ts';
import { SECRET_KEY } from '../model/secret-names.ts';
import { homeConfigPath, readHomeConfig } from '../service/home-config.ts';
import { PatternScanner } from './pattern-scanner.ts';
import { BACKTRACKING_FIX, backtrackingRisk } from './redact-pattern.ts';

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Deepest nesting the redactor walks; anything deeper is replaced by TOO_DEEP, never passed on unwalked. */
export const MAX_REDACT_DEPTH = 64;

/** What replaces a value nested deeper than MAX_REDACT_DEPTH. */
export const TOO_DEEP = `[REDACTED: nested deeper than ${MAX_REDACT_DEPTH} levels]`;

export { SECRET_KEY };

/**
 * Secret shapes found in any string (private keys are found by a forward scan, redactPrivateKeys): dvm tokens, bearer
 * and basic credentials, cloud and chat tokens, values of secret-named keys, URL passwords and JWTs; a pattern's
 * group 1, when it has one (never more), is kept.
 */
export const DEFAULT_SECRET_PATTERNS: readonly RegExp[] = [
  // Each is linear in its text: an attempt that fails starts only at a fixed prefix and scans no further than the
  // next such prefix, its quote or a bounded run of blanks (at most 32 spaces or tabs, enough for aligned columns of
  // `.env` tables or `kubectl describe`), never a lookbehind of variable length rescanned at every position.
  /dvmc?_(?:[0-9a-f]{8}_)?[A-Za-z0-9_-]{43}/g,
  /(\bBearer[ \t]{1,32})[A-Za-z0-9._~+/=-]{8,}/gi,
  /(\bauthorization["']?[ \t]{0,32}[=:][ \t]{0,32}["']?Basic[ \t]{1,32})[A-Za-z0-9+/]{4,}={0,2}/gi,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{36,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{22,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  // A key that ends with a secret's name (DB_PASSWORD, client_secret, "token"; not OLDPWD), then its value, quoted
  // or not, on the same line or the next (YAML's `password:` with the value indented below; in a stream-tagged log,
  // after the next line's `O `/`E ` tag).
  new RegExp(
    String.raw`(${SECRET_KEY_NAME}["']?[ \t]{0,32}[=:][ \t]{0,32}(?:\r?\n${LINE_TAG_AND_TIME}[ \t]{0,32})?["']?)(?:(?<=")(?:[^"\\\r\n]|\\.)+|(?<=')(?:[^'\\\r\n]|\\.)+|[^\s&"',;]+)`,
    'gi',
  ),
  // The password of a URL's userinfo runs to the last `@` before the host (`postgres://u:p@ss@db`), never into
  // the next URL. Its `i` (it has no letters) puts it in the scan of the key pattern: the leftmost match wins, and
  // `token:` inside `https://x-access-token:…@host` is not taken for a key.
  /(:\/\/[^\s"'<>`/:]*:)(?:[^\s"'<>`:]|:(?!\/\/))+(?=@)/gi,
  /(hooks\.slack\.com\/services\/)[A-Za-z0-9/_-]+/g,
  // No start right after a character of a JWT (`eyJ-eyJ-…` would be rescanned from each one).
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g,
];

// What every secret-named key with its value on the lines below has: `:` or `=` and the end of its line, or a YAML
// block indicator, tag or anchor after `: ` (each position is looked at a bounded number of times).
const SECRET_LINES_HINT = /[:=][ \t]*\r?\n|[:=][ \t]{1,32}[!&|>#]/;

// The stream tag of a stream-tagged log's line.
const STREAM_TAG = /^[OE] /;

const PEM_BEGIN = '-----BEGIN ';
const PEM_END = '-----END ';
// What follows PEM_BEGIN or PEM_END in a private key's marker: `RSA PRIVATE KEY-----`, `PGP PRIVATE KEY BLOCK-----`.
const PRIVATE_KEY_LABEL = /[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;

// The first private key marker (`-----BEGIN …` or `-----END …`) of `text` at or after `from`.
function markerAt(text: string, marker: string, from: number): { start: number; end: number } | undefined {
  for (let at = text.indexOf(marker, from); at !== -1; at = text.indexOf(marker, at + 1)) {
    PRIVATE_KEY_LABEL.lastIndex = at + marker.length;
    if (PRIVATE_KEY_LABEL.test(text)) return { start: at, end: PRIVATE_KEY_LABEL.lastIndex };
  }
  return undefined;
}

// The private keys of `text` in one forward scan: each from its BEGIN marker to the END marker after it; one with
// no END runs to the end of the text and leaves the text `open` (inside a key). An END marker before any BEGIN that
// opens its line, after lines shaped like a key's body, ends a key whose start was cut off (a log's tail, an
// artifact's cap): it runs from the first of those lines (after its stream tag, timestamp and indentation).
function privateKeys(text: string): { spans: [number, number][]; open: boolean } {
  const spans: [number, number][] = [];
  const first = markerAt(text, PEM_BEGIN, 0);
  let floor = 0;
  // The start of the line of the END looked at last, found by a forward cursor (each newline is looked at once).
  let lineStart = -1;
  let cursor = 0;
  let next: number | undefined;
  for (let end = markerAt(text, PEM_END, 0); end && (!first || end.start < first.start); ) {
    next ??= text.indexOf('\n');
    while (next !== -1 && next < end.start) {
      cursor = next + 1;
      next = text.indexOf('\n', cursor);
    }
    const line = cursor;
    // A second END on one line does not open it.
    const start = line === lineStart ? undefined : cutOffKeyStart(text, end.start, floor, line);
    lineStart = line;
    if (start !== undefined) {
      spans.push([start, end.end]);
      floor = end.end;
    }
    end = markerAt(text, PEM_END, end.end);
  }
  for (let begin = first; begin; ) {
    const end = markerAt(text, PEM_END, begin.end);
    if (!end) {
      spans.push([begin.start, text.length]);
      return { spans, open: true };
    }
    spans.push([begin.start, end.end]);
    begin = markerAt(text, PEM_BEGIN, end.end);
  }
  return { spans, open: false };
}

// Where the body of a key ends by the END marker at `end` starts, when its BEGIN was cut off: the END marker opens
// its line (after a tag, timestamp or indentation), and the lines before it, back to the first that is not (and not
// before `floor`, the end of the key before), are shaped like a key's body; undefined when it is no such end (an END
// quoted in a sentence, no body before it).
function cutOffKeyStart(text: string, end: number, floor: number, lineStart: number): number | undefined {
  if (lineStart < floor || contentStart(text.slice(lineStart, end)) !== end - lineStart) return undefined;
  let start: number | undefined;
  for (let at = lineStart; at > floor; ) {
    const previous = at >= 2 ? text.lastIndexOf('\n', at - 2) + 1 : 0;
    // The line of the key before (its END) is none of this key's body.
    if (previous < floor) break;
    const line = text.slice(previous, at - 1);
    if (!isKeyBodyLine(line)) break;
    start = previous + contentStart(line);
    at = previous;
  }
  return start;
}

/** Whether `line` opens with a private key's END marker (after its tag, timestamp or indentation). */
export function opensWithPrivateKeyEnd(line: string): boolean {
  const at = contentStart(line);
  return markerAt(line, PEM_END, at)?.start === at;
}

/** `text` with each private key, from its BEGIN marker to its END marker (or to the end of the text), REDACTED. */
export function redactPrivateKeys(text: string): string {
  const { spans } = privateKeys(text);
  if (!spans.length) return text;
  let out = '';
  let from = 0;
  for (const [start, end] of spans) {
    out += text.slice(from, start) + REDACTED;
    from = end;
  }
  return out + text.slice(from);
}

/**
 * Redaction of the consecutive lines of one stream through `redact`: a private key's lines, from its BEGIN line to
 * its END line, are REDACTED (from its BEGIN marker on the first, to its END marker on the last), and so is the line
 * after a secret-named key with nothing after it (YAML's `password:`, its value indented on the next line), past its
 * tag, timestamp and indentation.
 */
export function lineRedactor(redact: (line: string) => string): (line: string) => string {
  let inKey = false;
  // What the line before opened: a secret's value on this line (`password:`) or a block below it (`password: |`).
  let opening: SecretOpening;
  // The block a private key opened in (`private_key: |` then its BEGIN line), open again after the key's END.
  let aroundKey: SecretOpening;
  return (line) => {
    if (!inKey) {
      const open = opening;
      inKey = privateKeys(line).open;
      if (inKey && open?.kind === 'block' && continuesSecret(open, line)) aroundKey = open;
      // A line of the value the line before opened, unless it opens a private key (then redacted from its BEGIN on).
      if (!inKey && continuesSecret(open, line)) {
        const at = contentStart(line);
        // A blank line holds nothing: a value is on the next line that is not blank, a block goes on.
        if (at >= line.length) return line;
        // A value that is itself a secret-named key (`secret:` then `  token:`) has its value on the next line.
        opening = afterSecretLine(open, line);
        return line.slice(0, at) + REDACTED;
      }
      opening = inKey ? undefined : secretOpening(line);
      return redact(line);
    }
    const end = markerAt(line, PEM_END, 0);
    if (!end) return REDACTED;
    const rest = line.slice(end.end);
    inKey = privateKeys(rest).open;
    opening = inKey ? undefined : (aroundKey ?? secretOpening(rest));
    if (!inKey) aroundKey = undefined;
    return REDACTED + (rest ? redact(rest) : '');
  };
}

// Where a line ends before its newline, without a `\r` of CRLF.
function lineEnd(text: string, newline: number): number {
  return newline > 0 && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
}

/**
 * `text` with the values of secret-named keys that stand on the lines below them REDACTED, each line past its tag,
 * timestamp and indentation: a value on the next line that is not blank (`password:`; one that is itself such a
 * key has its own below it), or a YAML block (`password: |`, `token: >-`, `db_password: !vault |`: every line
 * indented deeper than the key). A stream-tagged log's two streams (`O `, `E `) are followed apart.
 */
export function redactSecretLines(text: string): string {
  if (!SECRET_LINES_HINT.test(text)) return text;
  let out = '';
  let from = 0;
  const openings = new Map<string, SecretOpening>();
  for (let start = 0; ; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : lineEnd(text, newline);
    const line = text.slice(start, end);
    const tag = STREAM_TAG.test(line) ? line.slice(0, 2) : '';
    const open = openings.get(tag);
    if (open && continuesSecret(open, line)) {
      const at = contentStart(line);
      // A blank line holds nothing: a value is on the next line that is not blank, a block goes on.
      if (at < line.length) {
        out += text.slice(from, start + at) + REDACTED;
        from = end;
        openings.set(tag, afterSecretLine(open, line));
      }
    } else openings.set(tag, secretOpening(line));
    if (newline === -1) break;
    start = newline + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

// A match of a combined pattern without its secret: the kept group (group 1 of the one pattern that matched).
function withoutSecret(_match: string, ...args: unknown[]): string {
  for (const arg of args) {
    if (typeof arg === 'string') return arg + REDACTED;
    if (typeof arg === 'number') break; // the offset: no group took part
  }
  return REDACTED;
}

/** Removes secrets from values before they reach audit, logs, SSE or output. */
export interface Redactor {
  /**
   * A deep copy of `value` with schema-marked secret fields, values of secret-named keys (SECRET_KEY) and
   * secret-shaped substrings replaced.
   */
  redact(value: unknown, schema?: Record<string, unknown>): unknown;
  /** One string with secret-shaped substrings replaced. */
  redactText(text: string): string;
  /** Stops the worker thread of the home's own patterns, if there is one (a later call starts another). */
  close?(): void;
}

type Schema = Record<string, unknown> | undefined;

// Keys like `pid` or `containerName` cannot hold a secret shape (dvm tokens, AWS keys, JWTs and the rest do not fit;
// a classic GitHub token does, so it is excluded).
const IDENTIFIER_KEY = /^(?!eyJ|gh[pousr]_)[a-z][A-Za-z0-9_]{0,39}$/;

function childSchema(schema: Schema, key: string | number): Schema {
  if (!schema) return undefined;
  if (typeof key === 'number') {
    const items = schema.items;
    return items && typeof items === 'object' && !Array.isArray(items) ? (items as Schema) : undefined;
  }
  const properties = schema.properties as Record<string, Schema> | undefined;
  // Own keys only: `__proto__` (or `toString`) is in every object, and would pass for a declared property.
  if (properties && Object.hasOwn(properties, key)) return properties[key];
  const additional = schema.additionalProperties;
  return additional && typeof additional === 'object' ? (additional as Schema) : undefined;
}

// A copy of `value` with schema-marked secret fields and values of secret-named keys REDACTED, and each other string
// through `text`, each key through `key`, in one fixed order.
function walkValue(
  value: unknown,
  schema: Schema,
  depth: number,
  text: (s: string) => string,
  key: (k: string) => string,
): unknown {
  if (schema?.['x-secret'] === true && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string') return text(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_REDACT_DEPTH) return TOO_DEEP;
  if (Array.isArray(value))
    return value.map((v, i) => walkValue(v, childSchema(schema, i), depth + 1, text, key));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const walked =
      v !== undefined && v !== null && SECRET_KEY.test(k)
        ? REDACTED
        : walkValue(v, childSchema(schema, k), depth + 1, text, key);
    // Defined, not assigned: a `__proto__` key (an action's output may hold one) stays a key of the copy.
    if (k === '__proto__')
      Object.defineProperty(out, key(k), {
        value: walked,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key(k)] = walked;
  }
  return out;
}

const asIs = (s: string) => s;

/**
 * `value` as policies see it: schema-marked secret fields (x-secret) and values of secret-named keys REDACTED,
 * every other string as given — never pattern-redacted, so a policy decides on what will run (a pattern that cut a
 * value, or a scan past its budget, would let a forbid on that param pass).
 */
export function maskSecretFields(value: unknown, schema?: Record<string, unknown>): unknown {
  return walkValue(value, schema, 0, asIs, asIs);
}

/** Time one redact call may spend on `redact.patterns` before every text it carries is replaced by UNSCANNED. */
export const PATTERN_BUDGET_MS = 50;

/** What replaces text that `redact.patterns` had no time to scan. */
export const UNSCANNED = '[REDACTED: not scanned, redact.patterns too slow]';

// All patterns as one alternation per case mode: one scan of each string instead of one per pattern (not one scan
// with `(?i:…)` groups: V8 of Node 24 gets a lookbehind wrong in an alternative of such a group).
function combined(patterns: readonly RegExp[]): RegExp[] {
  const mode = (ignoreCase: boolean) => {
    const sources = patterns
      .filter((p) => p.flags.includes('i') === ignoreCase)
      .map((p) => `(?:${p.source})`);
    return sources.length ? new RegExp(sources.join('|'), ignoreCase ? 'gi' : 'g') : undefined;
  };
  return [mode(false), mode(true)].filter((p): p is RegExp => p !== undefined);
}

/**
 * A redactor with the default patterns plus `patterns` (regular expressions, matched globally). Those run on a
 * worker thread (PatternScanner) on the whole of each text, for at most `budgetMs` (PATTERN_BUDGET_MS) per redact
 * call: past it, every text of the call is UNSCANNED, never passed on unscanned. The defaults (ours, linear) run here.
 */
export function createRedactor(options: { patterns?: readonly RegExp[]; budgetMs?: number } = {}): Redactor {
  const defaults = combined(DEFAULT_SECRET_PATTERNS);
  // Every default pattern needs one of these; a string without any (a timestamp, `env=dev`) skips their scan.
  const hint =
    /dvm|AKIA|ASIA|-----|eyJ|bearer|authorization|gh[pousr]_|github_pat_|xox[abprs]-|pass|pwd|secret|token|key|:\/\/|slack/i;
  const byDefaults = (text: string): string => {
    // The shortest secret shape (pwd=x) has 5 characters.
    if (text.length < 5 || !hint.test(text)) return text;
    let out = redactSecretLines(redactPrivateKeys(text));
    for (const pattern of defaults) out = out.replace(pattern, withoutSecret);
    return out;
  };
  // The home's own patterns, when it has any.
  const ownPatterns = options.patterns?.length ? options.patterns : undefined;
  // Each string of a value, and each key that could hold a secret (with the home's patterns, any key: their shapes
  // are not known), through `text`, in one fixed order.
  const walk = (value: unknown, schema: Schema, depth: number, text: (s: string) => string): unknown =>
    walkValue(value, schema, depth, text, ownPatterns ? text : (k) => (IDENTIFIER_KEY.test(k) ? k : text(k)));
  if (!ownPatterns) {
    return { redact: (value, schema) => walk(value, schema, 0, byDefaults), redactText: byDefaults };
  }
  const scanner = new PatternScanner(ownPatterns, REDACTED);
  const budgetMs = options.budgetMs ?? PATTERN_BUDGET_MS;
  // The home's patterns see the text as given (one written to cover a whole value still covers it), then the
  // defaults see what they left; the texts of one call go to the worker together.
  const redact = (value: unknown, schema?: Record<string, unknown>): unknown => {
    const texts: string[] = [];
    walk(value, schema, 0, (s) => {
      texts.push(s);
      return s;
    });
    const scanned = scanner.scan(texts, budgetMs);
    let next = 0;
    return walk(value, schema, 0, () => (scanned ? byDefaults(scanned[next++]) : UNSCANNED));
  };
  return { redact, redactText: (text) => redact(text) as string, close: () => scanner.close() };
}

/**
 * The redactor of a dvm home: default patterns plus `redact.patterns` of `$DVM_HOME/config.yaml`; an invalid
 * regular expression there, or one that can backtrack catastrophically (backtrackingRisk), is DVM_SCHEMA_INVALID
 * naming it.
 */
export async function loadRedactor(home: string): Promise<Redactor> {
  const file = homeConfigPath(home);
  const config = (await readHomeConfig(home)) as { redact?: { patterns?: unknown } };
  const raw = config.redact?.patterns ?? [];
  if (!Array.isArray(raw)) {
    throw new DvmError('DVM_SCHEMA_INVALID', 'redact.patterns must be a list of regular expressions', {
      file,
      path: 'redact.patterns',
      fix: 'Write e.g. redact: {patterns: ["sk_live_[A-Za-z0-9]+"]}.',
    });
  }
  const patterns = raw.map((p, i) => {
    let pattern: RegExp;
    try {
      if (typeof p !== 'string' || p === '') throw new Error('not a non-empty string');
      pattern = new RegExp(p, 'g');
    } catch (error) {
      throw new DvmError(
        'DVM_SCHEMA_INVALID',
        `redact.patterns[${i}] is not a regular expression: ${(error as Error).message}`,
        {
          file,
          path: `redact.patterns[${i}]`,
          fix: 'Fix the pattern (JavaScript regular expression syntax) or remove it.',
        },
      );
    }
    const risk = backtrackingRisk(p);
    if (risk) {
      throw new DvmError(
        'DVM_SCHEMA_INVALID',
        `redact.patterns[${i}] can backtrack catastrophically: ${risk}`,
        {
          file,
          path: `redact.patterns[${i}]`,
          fix: BACKTRACKING_FIX,
        },
      );
    }
    return pattern;
  });
  return createRedactor({ patterns });
}
