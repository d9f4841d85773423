import { continuesSecrets, type OpenSecrets, secretsAfter } from '../model/secret-lines.ts';
import type { Artifact } from './action.ts';
import type { LinePart } from './line-assembler.ts';

/** Default cap of a read action's artifact: 1 MiB. */
export const DEFAULT_ARTIFACT_MAX_BYTES = 1024 * 1024;

/** Default run time of an action without its own `timeouts`. */
export const DEFAULT_ACTION_TIMEOUTS = { defaultMs: 30_000, maxMs: 300_000 } as const;

const NEWLINE = 0x0a;

/**
 * How many lines more than its tail a read asks Docker or Kubernetes for, read only for what they open (a secret's
 * key above the tail, a YAML block's key, a key cut in 16 KiB pieces): never shown or counted.
 */
export const SOURCE_CONTEXT_LINES = 32;

// The first lines TailArtifact keeps the sizes of, for leaveOutFirstLines.
const LEADING_LINES = 4 * SOURCE_CONTEXT_LINES;

// How far above a cut the lines are read for a secret they open below them (a YAML block's key, `password: |`).
const SECRET_CONTEXT_BYTES = 64 * 1024;

// Where a tail of at most `maxBytes` of whole lines starts in `bytes` (longer than that): after the first newline of
// the last `maxBytes`, unless they start a line themselves; at the end when no line fits.
function tailStart(bytes: Buffer, maxBytes: number): number {
  const from = bytes.byteLength - maxBytes;
  if (bytes[from - 1] === NEWLINE) return from;
  const newline = bytes.indexOf(NEWLINE, from);
  return newline === -1 ? bytes.byteLength : newline + 1;
}

/**
 * Keeps the last `maxBytes` of `text` (the end of a log or dump is what matters) as an artifact, in whole lines, with
 * the byte counts; `keep: 'head'` keeps the beginning instead. A cut never falls inside a line, so that a secret is
 * never cut in two past redaction (`…word=value` is no longer seen as a password): the line it would split is left
 * out whole, and when that line alone is longer than the cap, `oversizeBytes` says so (the artifact may be empty).
 * `leadingContext` (a tail only): so many first lines are not output but lines more that a source's tail was asked for
 * (SOURCE_CONTEXT_LINES), read only for what they open (a tail that would start on `password:`'s value leaves that
 * value out).
 */
export function artifactOf(
  text: string | Uint8Array,
  maxBytes = DEFAULT_ARTIFACT_MAX_BYTES,
  options: { contentType?: string; keep?: 'head' | 'tail'; leadingContext?: number } = {},
): Artifact {
  const whole = typeof text === 'string' ? Buffer.from(text) : Buffer.from(text);
  if (options.leadingContext && options.keep === 'head')
    throw new Error('artifactOf: leadingContext is the lines above a tail, not a head');
  // A source's tail asked for lines more (leadingContext): they are not output, only read for what they open, as the
  // lines left out at a cut are.
  let contextEnd = 0;
  for (let line = 0; line < (options.leadingContext ?? 0) && contextEnd < whole.byteLength; line++)
    contextEnd = lineEnd(whole, contextEnd);
  const bytes = whole.subarray(contextEnd);
  const totalBytes = bytes.byteLength;
  const contentType = options.contentType ?? 'text/plain; charset=utf-8';
  const max = Math.max(0, maxBytes);
  if (totalBytes <= max && (contextEnd === 0 || !opensAcross(whole, contextEnd))) {
    return { contentType, content: bytes.toString('utf8'), bytes: totalBytes, totalBytes, truncated: false };
  }
  let kept: Buffer;
  let cutLine = 0; // bytes of the line at the cut: the last one left out before a tail, the first after a head
  if (options.keep === 'head') {
    const end = max > 0 ? bytes.lastIndexOf(NEWLINE, max - 1) + 1 : 0;
    const next = bytes.indexOf(NEWLINE, end);
    cutLine = (next === -1 ? totalBytes : next + 1) - end;
    kept = bytes.subarray(0, end);
  } else {
    // In `whole` (the context lines and the output after them): where the kept tail starts.
    let start = contextEnd;
    if (totalBytes > max) {
      start = contextEnd + tailStart(bytes, max);
      cutLine = start - (start >= 2 ? whole.lastIndexOf(NEWLINE, start - 2) + 1 : 0);
    }
    // What the lines left out before the cut opened (a secret's value on the next line, `password:`, or a block of
    // the lines indented below a key, `password: |`, whose key may be lines above the cut) is left out with them;
    // the lines of the last SECRET_CONTEXT_BYTES before the line at the cut, and that line (which may be longer than
    // the cap, and part of a block opened above it), are read for it.
    let opening: OpenSecrets;
    // With lines of context, all of them and every line since (a YAML block opened among them may run on for more
    // than that window: TailArtifact follows it all the way).
    const cutStart = start - cutLine;
    const from =
      contextEnd === 0 && cutStart > SECRET_CONTEXT_BYTES
        ? whole.lastIndexOf(NEWLINE, cutStart - SECRET_CONTEXT_BYTES) + 1
        : 0;
    for (let at = from; at < start; ) {
      const newline = whole.indexOf(NEWLINE, at);
      if (newline === -1 || newline >= start) break;
      opening = secretsAfter(opening, whole.subarray(at, newline).toString('utf8'));
      at = newline + 1;
    }
    while (opening && start < whole.byteLength) {
      const next = lineEnd(whole, start);
      const line = lineAt(whole, start, next);
      if (!continuesSecrets(opening, line)) break;
      opening = secretsAfter(opening, line);
      start = next;
    }
    kept = whole.subarray(start);
  }
  return {
    contentType,
    content: kept.toString('utf8'),
    bytes: kept.byteLength,
    totalBytes,
    truncated: kept.byteLength < totalBytes,
    ...(cutLine > max ? { oversizeBytes: cutLine } : {}),
  };
}

// Whether the lines of `bytes` up to `end` leave a secret's value open below them.
function opensAcross(bytes: Buffer, end: number): boolean {
  let opening: OpenSecrets;
  for (let at = 0; at < end; ) {
    const next = lineEnd(bytes, at);
    opening = secretsAfter(opening, lineAt(bytes, at, next));
    at = next;
  }
  return opening !== undefined;
}

// Where the line at `at` ends in `bytes`: after its newline, or at the end.
function lineEnd(bytes: Buffer, at: number): number {
  const newline = bytes.indexOf(NEWLINE, at);
  return newline === -1 ? bytes.byteLength : newline + 1;
}

// The text of the line from `at` to `end`, without its newline.
function lineAt(bytes: Buffer, at: number, end: number): string {
  return bytes.subarray(at, bytes[end - 1] === NEWLINE ? end - 1 : end).toString('utf8');
}

/**
 * A JSON artifact of `value` (an array, or an object), pretty-printed, capped at `maxBytes` by whole items (entries
 * of an object): the first ones that fit (`keep: 'head'`) or the last ones, so that the content always parses and
 * no item is cut in two past redaction. When the item at the cut alone is longer than the cap, `oversizeBytes` is its
 * size as the whole document holds it.
 */
export function jsonArtifactOf(
  value: readonly unknown[] | Record<string, unknown>,
  maxBytes = DEFAULT_ARTIFACT_MAX_BYTES,
  options: { keep?: 'head' | 'tail' } = {},
): Artifact {
  const contentType = 'application/json';
  const whole = JSON.stringify(value, null, 2);
  const totalBytes = Buffer.byteLength(whole);
  const max = Math.max(0, maxBytes);
  if (totalBytes <= max)
    return { contentType, content: whole, bytes: totalBytes, totalBytes, truncated: false };
  const isArray = Array.isArray(value);
  // An object's entries as JSON.stringify writes them: those whose value it leaves out are not there.
  const entries: [string, unknown][] = isArray
    ? value.map((item, i) => [String(i), item])
    : Object.entries(value).filter(([, v]) => JSON.stringify(v) !== undefined);
  // Each item's bytes in the pretty-printed document: its indented text (`[\n` + it + `\n]` less 4), and 2 for
  // the `,\n` or `\n` after it; the brackets are 2 more.
  const sizeOf = ([key, item]: [string, unknown]) =>
    Buffer.byteLength(JSON.stringify(isArray ? [item] : { [key]: item }, null, 2)) - 4;
  const order = options.keep === 'head' ? entries : [...entries].reverse();
  let used = 2;
  let count = 0;
  let cutItem = 0;
  for (const entry of order) {
    const size = sizeOf(entry);
    if (used + size + 2 > max) {
      cutItem = size;
      break;
    }
    used += size + 2;
    count++;
  }
  const chosen = options.keep === 'head' ? order.slice(0, count) : order.slice(0, count).reverse();
  const kept = isArray ? chosen.map(([, item]) => item) : Object.fromEntries(chosen);
  const content = JSON.stringify(kept, null, 2);
  return {
    contentType,
    content,
    bytes: Buffer.byteLength(content),
    totalBytes,
    truncated: true,
    ...(cutItem > 0 && cutItem + 4 > max ? { oversizeBytes: cutItem } : {}),
  };
}

/**
 * The content type of a log whose lines say which stream they came from: each starts with `O ` (stdout) or `E `
 * (stderr). `dvm action run` prints such lines on the stream they came from, without the tag, as `docker logs` does.
 */
export const STREAM_TAGGED_LOG = 'text/x-dvm-stream-tagged-log; charset=utf-8';

/** Output schema of every read action: `{summary, artifact}`. */
export const READ_OUTPUT_SCHEMA = {
  type: 'object',
  required: ['summary', 'artifact'],
  properties: {
    summary: { type: 'object', description: 'What the action found, structured.' },
    artifact: {
      type: 'object',
      required: ['contentType', 'content', 'bytes', 'totalBytes', 'truncated'],
      description:
        'The raw output, capped in whole lines (JSON: whole items), with its byte counts; oversizeBytes when the line or item at the cut alone was longer than the cap (left out whole).',
    },
  },
} as const;

/** READ_OUTPUT_SCHEMA with the action's own summary schema in place of the generic one. */
export function readOutputSchema(summary: Record<string, unknown>): Record<string, unknown> {
  return { ...READ_OUTPUT_SCHEMA, properties: { ...READ_OUTPUT_SCHEMA.properties, summary } };
}

/**
 * The tail of a stream of output lines, kept within a byte budget while it grows (a follow may run for an hour):
 * older lines are dropped once the kept ones pass `maxBytes`, and `artifact()` gives what artifactOf would give for
 * the whole output (whole lines only), with its total byte count. A line longer than the budget, handed on in parts
 * (LineAssembler), is never kept in part: none of it is held, and with it go the lines before it.
 */
export class TailArtifact {
  readonly #maxBytes: number;
  readonly #kept: string[] = [];
  #head = 0;
  #keptBytes = 0;
  #totalBytes = 0;
  // Bytes of the line at the cut (the last one left out), and of each line over the budget still coming in parts.
  #cutLine = 0;
  // The index of the line at the cut (lines are numbered from 0 by their first push): leaveOutFirstLines leaves it
  // out, and then it is no line at the cut.
  #cutIndex = -1;
  // Each line still coming in parts, by tag: its bytes so far, its first 256 characters with the tag (whether it is
  // part of a secret opened above it), its last 256 (whether it opens one), and what was open above it.
  readonly #inParts = new Map<
    string,
    { index: number; bytes: number; start: string; end: string; above: OpenSecrets }
  >();
  // What the line just before the first kept one (or before the next, when none is kept) opened: a secret's value on
  // the next line (`password:`) or a block below it (`password: |`), whose lines are left out too.
  #opening: OpenSecrets;
  // Value lines left out after their key (within the budget), oldest first, just before the first kept line: the
  // budget still counts them, so that the line at the cut is the one artifactOf names.
  #hidden: number[] = [];
  #hiddenHead = 0;
  #hiddenBytes = 0;
  // The last answer of #firstContinues, for the first kept line at `head` under `opening`.
  #firstCheck: { head: number; opening: OpenSecrets; continues: boolean } | undefined;
  // Lines pushed so far (the next line's index), the index of the first kept line, and the bytes of each of the
  // first LEADING_LINES lines: for leaveOutFirstLines.
  #lines = 0;
  #frontIndex = 0;
  readonly #leading: number[] = [];

  /** A tail that keeps at most `maxBytes` of the most recent whole lines. */
  constructor(maxBytes = DEFAULT_ARTIFACT_MAX_BYTES) {
    this.#maxBytes = Math.max(0, maxBytes);
  }

  /**
   * Adds one line of output (without its newline), or one `part` of a line longer than the budget; `tag` starts the
   * line in the artifact (STREAM_TAGGED_LOG's `O `, `E `), and tells the lines of two streams in parts apart.
   */
  push(line: string, part: LinePart = 'whole', tag = ''): void {
    const starts = part === 'whole' || part === 'first';
    const ends = part === 'whole' || part === 'last';
    const text = `${starts ? tag : ''}${line}${ends ? '\n' : ''}`;
    const bytes = Buffer.byteLength(text);
    this.#totalBytes += bytes;
    const before = starts ? undefined : this.#inParts.get(tag);
    const index = before?.index ?? this.#lines++;
    if (index < LEADING_LINES) this.#leading[index] = (this.#leading[index] ?? 0) + bytes;
    if (part !== 'whole') {
      const sofar = (before?.bytes ?? 0) + bytes;
      const start = before?.start ?? `${tag}${line}`.slice(0, 256);
      const end = ((before?.end ?? '') + line).slice(-256);
      const above = before ? before.above : this.#openAfterKept();
      if (ends) this.#inParts.delete(tag);
      else this.#inParts.set(tag, { index, bytes: sofar, start, end, above });
      this.#leaveOut(sofar, secretsAfter(above, start + end), index);
      return;
    }
    if (bytes > this.#maxBytes) {
      this.#leaveOut(bytes, secretsAfter(this.#openAfterKept(), text.slice(0, -1)), index);
      return;
    }
    // The value of a secret-named key left out on the line before (`password:`, `password: |`): left out with it.
    const shown = text.slice(0, -1);
    if (this.#head === this.#kept.length && continuesSecrets(this.#opening, shown)) {
      this.#opening = secretsAfter(this.#opening, shown);
      this.#hide(bytes);
      this.#trimHidden();
      return;
    }
    if (this.#head === this.#kept.length) this.#frontIndex = index;
    this.#kept.push(text);
    this.#keptBytes += bytes;
    // Drop whole lines from the front until the kept ones fit the budget, and a secret's value after its key.
    while (this.#head < this.#kept.length && (this.#keptBytes > this.#maxBytes || this.#firstContinues())) {
      const first = this.#kept[this.#head];
      const firstShown = first.slice(0, -1);
      const firstBytes = Buffer.byteLength(first);
      const overBudget = this.#keptBytes > this.#maxBytes;
      this.#keptBytes -= firstBytes;
      if (overBudget) {
        this.#cutLine = firstBytes;
        this.#cutIndex = this.#frontIndex;
        this.#hidden = [];
        this.#hiddenHead = 0;
        this.#hiddenBytes = 0;
      } else this.#hide(firstBytes);
      // A line of a block left out keeps the block open for the lines below it.
      this.#opening = secretsAfter(this.#opening, firstShown);
      this.#kept[this.#head] = '';
      this.#head++;
      this.#frontIndex++;
    }
    this.#trimHidden();
    if (this.#head > 1024 && this.#head * 2 > this.#kept.length) {
      this.#kept.splice(0, this.#head);
      this.#head = 0;
      this.#firstCheck = undefined;
    }
  }

  // Whether the first kept line is part of what the line before it opened: worked out once per first line and
  // opening (a push while a block stays open above a long first line must not read that line again).
  #firstContinues(): boolean {
    const checked = this.#firstCheck;
    if (checked && checked.head === this.#head && checked.opening === this.#opening) return checked.continues;
    const continues = continuesSecrets(this.#opening, this.#kept[this.#head].slice(0, -1));
    this.#firstCheck = { head: this.#head, opening: this.#opening, continues };
    return continues;
  }

  /**
   * Leaves out the first `count` lines pushed (at most LEADING_LINES), after the last push: a source's tail asked for
   * lines more than the output (SOURCE_CONTEXT_LINES), so that a tail that would start on a secret's value still has
   * the key above it. Those lines are not output (nor counted); what they open (`password:`, `token: |`) is left out
   * with them, as at a cut.
   */
  leaveOutFirstLines(count: number): void {
    const leaving = Math.min(count, LEADING_LINES, this.#lines);
    if (leaving <= 0) return;
    for (let index = 0; index < leaving; index++) this.#totalBytes -= this.#leading[index] ?? 0;
    // The line at the cut was one of them: no line of the output was cut.
    if (this.#cutIndex < leaving) this.#cutLine = 0;
    // Those still kept go, read for what they open (the ones already left out were read at their cut); then the
    // lines of the output that continue it.
    if (this.#head >= this.#kept.length || this.#frontIndex >= leaving) return;
    let opening = this.#opening;
    while (this.#head < this.#kept.length && this.#frontIndex < leaving) {
      const text = this.#kept[this.#head];
      opening = secretsAfter(opening, text.slice(0, -1));
      this.#keptBytes -= Buffer.byteLength(text);
      this.#kept[this.#head++] = '';
      this.#frontIndex++;
    }
    while (opening && this.#head < this.#kept.length) {
      const text = this.#kept[this.#head];
      if (!continuesSecrets(opening, text.slice(0, -1))) break;
      opening = secretsAfter(opening, text.slice(0, -1));
      this.#keptBytes -= Buffer.byteLength(text);
      this.#kept[this.#head++] = '';
      this.#frontIndex++;
    }
    this.#opening = opening;
    this.#firstCheck = undefined;
  }

  /** The artifact of everything pushed: the last `maxBytes` in whole lines, with the total byte count. */
  artifact(contentType = 'text/plain; charset=utf-8'): Artifact {
    const truncated = this.#keptBytes < this.#totalBytes;
    return {
      contentType,
      content: this.#kept.slice(this.#head).join(''),
      bytes: this.#keptBytes,
      totalBytes: this.#totalBytes,
      truncated,
      ...(truncated && this.#cutLine > this.#maxBytes ? { oversizeBytes: this.#cutLine } : {}),
    };
  }

  // What is open after the last line pushed (read through the kept lines): for a line over the budget, which may
  // be part of a secret opened above it.
  #openAfterKept(): OpenSecrets {
    let opening = this.#opening;
    for (let at = this.#head; at < this.#kept.length; at++)
      opening = secretsAfter(opening, this.#kept[at].slice(0, -1));
    return opening;
  }

  // A line over the budget (`bytes` of it so far; `opening`, what is open after it): it is left out, and so is every
  // line before it.
  #leaveOut(bytes: number, opening: OpenSecrets, index: number): void {
    this.#cutIndex = index;
    this.#kept.length = 0;
    this.#head = 0;
    this.#keptBytes = 0;
    this.#cutLine = bytes;
    this.#opening = opening;
    this.#firstCheck = undefined;
    this.#hidden = [];
    this.#hiddenHead = 0;
    this.#hiddenBytes = 0;
  }

  #hide(bytes: number): void {
    this.#hidden.push(bytes);
    this.#hiddenBytes += bytes;
  }

  // Hidden lines that the kept ones leave no room for are past the cut: the last of them is the line at the cut.
  #trimHidden(): void {
    while (this.#hiddenHead < this.#hidden.length && this.#keptBytes + this.#hiddenBytes > this.#maxBytes) {
      const first = this.#hidden[this.#hiddenHead++];
      this.#hiddenBytes -= first;
      this.#cutLine = first;
      // A value line left out (its index is not kept): never longer than the cap, so never named oversize.
      this.#cutIndex = Number.POSITIVE_INFINITY;
    }
    if (this.#hiddenHead > 1024 && this.#hiddenHead * 2 > this.#hidden.length) {
      this.#hidden.splice(0, this.#hiddenHead);
      this.#hiddenHead = 0;
    }
  }
}
