// What may open a line of output before its content: a stream tag of a stream-tagged log (`O `, `E `), an RFC 3339
// timestamp (docker's `timestamps`), indentation (YAML, a key under a `key: |` block).
/** A line's stream tag and docker timestamp, each optional, as regular expression source. */
export const LINE_TAG_AND_TIME = String.raw`(?:[OE] )?(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}) )?`;

/** The names of keys whose values are secrets in output (DB_PASSWORD, client_secret, "token"; not OLDPWD), as source. */
export const SECRET_KEY_NAME =
  '(?:passw(?:or)?d|passphrase|(?<![A-Za-z])pwd|secret|token|(?:api|access|secret|private)[_-]?key)';

const LINE_PREFIX = new RegExp(`^(${LINE_TAG_AND_TIME})([ \\t]*)`);

/** Where a line's content starts: after its stream tag, timestamp and indentation, if it has them. */
export function contentStart(line: string): number {
  return LINE_PREFIX.exec(line)?.[0].length ?? 0;
}

const NON_BLANK = /\S/g;

// A line's indentation (after its tag and timestamp) and whether it has no content.
function shapeOf(line: string): { indent: number; blank: boolean } {
  const match = LINE_PREFIX.exec(line);
  NON_BLANK.lastIndex = match?.[0].length ?? 0;
  return { indent: match?.[2].length ?? 0, blank: !NON_BLANK.test(line) };
}

// A line of a private key's body (after contentStart): base64 of up to 80 characters (PEM writes 64 or 70), a PGP
// armor checksum (`=AbCd`), a PEM or PGP armor header (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`, `Version: …`), or
// the blank line after such headers.
const KEY_BODY_LINE =
  /^(?:[A-Za-z0-9+/]{1,80}={0,2}|=[A-Za-z0-9+/]{4}|(?:Proc-Type|DEK-Info|Version|Comment|Hash|Charset): [^\r\n]{1,200}|)[ \t]*\r?$/;

/** Whether `line` (with its prefix) can be a line of a private key's body. */
export function isKeyBodyLine(line: string): boolean {
  return KEY_BODY_LINE.test(line.slice(contentStart(line)));
}

// A key whose name is a secret's, then `:` or `=` and nothing else: its value
// is on the next line (YAML's `password:` with the value indented below).
const OPENS_SECRET_VALUE = new RegExp(String.raw`${SECRET_KEY_NAME}["']?[ \t]{0,32}[=:][ \t]{0,32}\r?$`, 'i');

// A secret-named YAML key whose value is a block scalar (`password: |`, `token: >-`, after a tag or an anchor such
// as `!vault |` or `&pw |`): its value is every line below indented deeper than the key.
const OPENS_SECRET_BLOCK = new RegExp(
  String.raw`${SECRET_KEY_NAME}["']?[ \t]{0,32}:[ \t]{1,32}(?:[!&][^\s|>]{0,64}[ \t]{1,32}){0,2}[|>][-+1-9]{0,2}[ \t]{0,32}\r?$`,
  'i',
);

/**
 * What a line opens for the lines below it: a secret's value on the next line that is not blank (`password:`), a
 * block of the lines indented deeper than its key (`password: |`), or nothing; `indent` is the key's indentation.
 */
export type SecretOpening = { kind: 'value' | 'block'; indent: number } | undefined;

// Where a comment starts on a line (` # …`), or -1.
const COMMENT = /[ \t]#/;

/** What `line` opens for the lines below it (see SecretOpening). */
export function secretOpening(line: string): SecretOpening {
  // The end is all the patterns look at: a 1 MiB line costs no more than a short one.
  const end = line.length > 256 ? line.slice(-256) : line;
  if (OPENS_SECRET_VALUE.test(end)) return { kind: 'value', indent: shapeOf(line).indent };
  if (OPENS_SECRET_BLOCK.test(end)) return { kind: 'block', indent: shapeOf(line).indent };
  // A comment after the key (`password: | # db`, `password:  # the db`) is none of it: the line is judged without
  // it (a value only after `:`: `secret = # note` in an INI file is an empty value).
  const hash = line.search(COMMENT);
  if (hash === -1) return undefined;
  const bare = line.slice(Math.max(0, hash - 256), hash);
  if (OPENS_SECRET_BLOCK.test(bare)) return { kind: 'block', indent: shapeOf(line).indent };
  if (/:[ \t]*$/.test(bare) && OPENS_SECRET_VALUE.test(bare))
    return { kind: 'value', indent: shapeOf(line).indent };
  return undefined;
}

/**
 * Whether `line` is part of the secret value `opening` opened (the next line, for a value; a blank line or one
 * indented deeper than the key, for a block); a blank line holds nothing.
 */
export function continuesSecret(opening: SecretOpening, line: string): boolean {
  if (!opening) return false;
  if (opening.kind === 'value') return true;
  const { indent, blank } = shapeOf(line);
  return blank || indent > opening.indent;
}

/**
 * What is open after `line`, a line of the secret `opening` opened: the same block; after a blank line, the same
 * value; after a value's line indented deeper than its key, the rest of a YAML plain scalar written over several
 * lines (as a block of that key), unless the line is itself a secret-named key; else what the line opens.
 */
export function afterSecretLine(opening: SecretOpening, line: string): SecretOpening {
  if (!opening || opening.kind === 'block') return opening;
  const { indent, blank } = shapeOf(line);
  if (blank) return opening;
  return (
    secretOpening(line) ?? (indent > opening.indent ? { kind: 'block', indent: opening.indent } : undefined)
  );
}

// What is open after `line`, under `opening` (what the line above it left open): afterSecretLine or secretOpening.
function openingAfter(opening: SecretOpening, line: string): SecretOpening {
  return continuesSecret(opening, line) ? afterSecretLine(opening, line) : secretOpening(line);
}

/**
 * How many lines of the other stream a stream's pending secret waits through for its own next line, in a
 * stream-tagged log read as one (a tail's cut, the lines above a tail): they are left out with it, so that the tail
 * stays one unbroken end of the output and the value still goes when it comes.
 */
export const OTHER_STREAM_LINES = 16;

/**
 * What the lines so far left open below them, per stream (a stream-tagged log's `O ` and `E `; '' for other text):
 * each stream's opening, and how many lines of the other streams came since its own last line. Undefined: nothing.
 */
export type OpenSecrets =
  | ReadonlyMap<string, { opening: NonNullable<SecretOpening>; others: number }>
  | undefined;

// The stream tag a line starts with (`O `, `E `), or '' (looked at for every line: no regular expression).
function tagOf(line: string): string {
  const first = line.charCodeAt(0);
  return (first === 79 || first === 69) && line.charCodeAt(1) === 32 ? (first === 79 ? 'O ' : 'E ') : '';
}

/**
 * Whether `line` goes with what is open: its own stream's secret continues on it (continuesSecret), or another
 * stream's secret still waits for its own next line (at most OTHER_STREAM_LINES of the others).
 */
export function continuesSecrets(open: OpenSecrets, line: string): boolean {
  if (!open) return false;
  const tag = tagOf(line);
  const own = open.get(tag);
  if (own && continuesSecret(own.opening, line)) return true;
  for (const other of open.keys()) if (other !== tag) return true;
  return false;
}

/**
 * What is open after `line` (read, or left out with what is open): its own stream's opening follows it
 * (afterSecretLine when the line continues it, else what the line opens), and the other streams' wait one line more.
 */
export function secretsAfter(open: OpenSecrets, line: string): OpenSecrets {
  const tag = tagOf(line);
  const own = open?.get(tag);
  const opening = own ? openingAfter(own.opening, line) : secretOpening(line);
  if (!open && !opening) return undefined;
  const next = new Map<string, { opening: NonNullable<SecretOpening>; others: number }>();
  for (const [other, waiting] of open ?? [])
    if (other !== tag && waiting.others + 1 < OTHER_STREAM_LINES)
      next.set(other, { opening: waiting.opening, others: waiting.others + 1 });
  if (opening) next.set(tag, { opening, others: 0 });
  return next.size > 0 ? next : undefined;
}
