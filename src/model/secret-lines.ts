// What may open a line of output before its content: a stream tag of a stream-tagged log (`O `, `E `), an RFC 3339
// timestamp (docker's `timestamps`), indentation (YAML, a key under a `key: |` block).
const LINE_PREFIX =
  /^(?:[OE] )?(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}) )?[ \t]*/;

/** Where a line's content starts: after its stream tag, timestamp and indentation, if it has them. */
export function contentStart(line: string): number {
  return LINE_PREFIX.exec(line)?.[0].length ?? 0;
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

// A key whose name is a secret's (the names of redact.ts's key pattern), then `:` or `=` and nothing else: its value
// is on the next line (YAML's `password:` with the value indented below).
const OPENS_SECRET_VALUE =
  /(?:passw(?:or)?d|passphrase|(?<![A-Za-z])pwd|secret|token|(?:api|access|secret|private)[_-]?key)["']?[ \t]{0,32}[=:][ \t]{0,32}\r?$/i;

/** Whether `line` ends with a secret-named key whose value is on the next line (`password:`). */
export function opensSecretValue(line: string): boolean {
  // The end is all it looks at: a 1 MiB line costs no more than a short one.
  return OPENS_SECRET_VALUE.test(line.length > 256 ? line.slice(-256) : line);
}
