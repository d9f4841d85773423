import { DvmError } from '../errors/dvm-error.ts';
import { SECRET_KEY } from '../model/secret-names.ts';
import { homeConfigPath, readHomeConfig } from '../service/home-config.ts';

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Deepest nesting the redactor walks; anything deeper is replaced by TOO_DEEP, never passed on unwalked. */
export const MAX_REDACT_DEPTH = 64;

/** What replaces a value nested deeper than MAX_REDACT_DEPTH. */
export const TOO_DEEP = `[REDACTED: nested deeper than ${MAX_REDACT_DEPTH} levels]`;

export { SECRET_KEY };

/** Secret shapes found in any string: dvm tokens, bearer values, cloud keys, private keys, credentials in text. */
export const DEFAULT_SECRET_PATTERNS: readonly RegExp[] = [
  /dvmc?_(?:[0-9a-f]{8}_)?[A-Za-z0-9_-]{43}/g,
  /(?<=\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /(?<=\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\s*[=:]\s*)[^\s&"',;]+/gi,
  /(?<=:\/\/[^/\s:@]+:)[^@\s/]+(?=@)/g,
  /(?<=hooks\.slack\.com\/services\/)[A-Za-z0-9/_-]+/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g,
];

/** Removes secrets from values before they reach audit, logs, SSE or output. */
export interface Redactor {
  /**
   * A deep copy of `value` with schema-marked secret fields, values of secret-named keys (SECRET_KEY) and
   * secret-shaped substrings replaced.
   */
  redact(value: unknown, schema?: Record<string, unknown>): unknown;
  /** One string with secret-shaped substrings replaced. */
  redactText(text: string): string;
}

type Schema = Record<string, unknown> | undefined;

// Keys like `pid` or `containerName` cannot hold a secret shape (dvm tokens, AWS keys, JWTs and the rest do not fit).
const IDENTIFIER_KEY = /^(?!eyJ)[a-z][A-Za-z0-9_]{0,39}$/;

function childSchema(schema: Schema, key: string | number): Schema {
  if (!schema) return undefined;
  if (typeof key === 'number') {
    const items = schema.items;
    return items && typeof items === 'object' && !Array.isArray(items) ? (items as Schema) : undefined;
  }
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (properties && key in properties) return properties[key];
  const additional = schema.additionalProperties;
  return additional && typeof additional === 'object' ? (additional as Schema) : undefined;
}

/** A redactor with the default patterns plus `patterns` (regular expressions, matched globally). */
export function createRedactor(options: { patterns?: readonly RegExp[] } = {}): Redactor {
  // All patterns as one alternation per case mode: one scan of each string instead of one per pattern.
  const all = [...DEFAULT_SECRET_PATTERNS, ...(options.patterns ?? [])];
  const combined = (ignoreCase: boolean) => {
    const sources = all.filter((p) => p.flags.includes('i') === ignoreCase).map((p) => `(?:${p.source})`);
    return sources.length ? new RegExp(sources.join('|'), ignoreCase ? 'gi' : 'g') : undefined;
  };
  const patterns = [combined(false), combined(true)].filter((p): p is RegExp => p !== undefined);
  // Every default pattern needs one of these; a string without any (a timestamp, `env=dev`) skips the scan (not
  // with user patterns).
  const hint = options.patterns?.length
    ? undefined
    : /dvm|AKIA|ASIA|-----|eyJ|bearer|pass|pwd|secret|token|key|:\/\/|slack/i;
  const redactText = (text: string): string => {
    // The shortest secret shape (pwd=x) has 5 characters.
    if (text.length < 5 || (hint && !hint.test(text))) return text;
    let out = text;
    for (const pattern of patterns) out = out.replace(pattern, REDACTED);
    return out;
  };
  const walk = (value: unknown, schema: Schema, depth: number): unknown => {
    if (schema?.['x-secret'] === true && value !== undefined && value !== null) return REDACTED;
    if (typeof value === 'string') return redactText(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_REDACT_DEPTH) return TOO_DEEP;
    if (Array.isArray(value)) return value.map((v, i) => walk(v, childSchema(schema, i), depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = IDENTIFIER_KEY.test(k) ? k : redactText(k);
      out[key] =
        v !== undefined && v !== null && SECRET_KEY.test(k)
          ? REDACTED
          : walk(v, childSchema(schema, k), depth + 1);
    }
    return out;
  };
  return { redact: (value, schema) => walk(value, schema, 0), redactText };
}

/**
 * The redactor of a dvm home: default patterns plus `redact.patterns` of `$DVM_HOME/config.yaml`; an invalid
 * regular expression there is DVM_SCHEMA_INVALID naming it.
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
    try {
      if (typeof p !== 'string' || p === '') throw new Error('not a non-empty string');
      return new RegExp(p, 'g');
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
  });
  return createRedactor({ patterns });
}
