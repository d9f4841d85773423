import { DEFAULT_ARTIFACT_MAX_BYTES } from './artifact.ts';

/**
 * The longest line to hold whole for log events capped at `capBytes` (the output cap, 1 MiB by default): one more
 * than the cap, so that every piece of a longer line (at least this many characters less one, bytes at least as
 * many, plus its newline) is over the cap and ends the events with `truncated` rather than being streamed.
 */
export function maxLineCharsFor(capBytes: number | undefined): number {
  return (capBytes ?? DEFAULT_ARTIFACT_MAX_BYTES) + 1;
}

/** The longest line held whole by default: for log events under the default output cap. */
export const DEFAULT_MAX_LINE_CHARS = maxLineCharsFor(undefined);

/**
 * What a handed-on text is of its line: all of it, or the first, a middle or the last piece of a line longer than
 * the assembler's maxLineChars.
 */
export type LinePart = 'whole' | 'first' | 'middle' | 'last';

/**
 * Joins text written in chunks into whole lines, per stream: a line a process wrote in two chunks is handed on once,
 * without its `\n` (or `\r\n`). Only the new chunk is scanned, so a long line arriving in many chunks costs its length
 * once. A line longer than `maxLineChars` is handed on in pieces of that size (never between the two halves of a
 * surrogate pair), so memory stays bounded; each piece says which part of its line it is (LinePart), so that what
 * keeps only whole lines (an artifact) can leave the line out.
 */
export class LineAssembler<Stream extends string> {
  readonly #onLine: (stream: Stream, line: string, part: LinePart) => void;
  readonly #maxLineChars: number;
  // A stream's line that has not ended: its text so far, and whether pieces of it were handed on already.
  readonly #pending = new Map<Stream, { parts: string[]; length: number; cut: boolean }>();
  // Streams in the order they were first written to: flush hands on their last lines in that order.
  readonly #streams: Stream[] = [];

  constructor(
    onLine: (stream: Stream, line: string, part: LinePart) => void,
    maxLineChars = DEFAULT_MAX_LINE_CHARS,
  ) {
    this.#onLine = onLine;
    this.#maxLineChars = Math.max(2, maxLineChars);
  }

  /** Feeds text of one stream; hands on the lines it ends. */
  write(stream: Stream, text: string): void {
    if (!this.#streams.includes(stream)) this.#streams.push(stream);
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const held = this.#pending.get(stream);
      const end = text.slice(start, newline);
      this.#pending.delete(stream);
      this.#hand(stream, held ? held.parts.join('') + end : end, held?.cut ? 'last' : 'whole');
      start = newline + 1;
    }
    if (start < text.length) this.#hold(stream, start === 0 ? text : text.slice(start));
  }

  /** Hands on what waits in every stream (last lines without a newline), in the order the streams were first written: once the output has ended. */
  flush(): void {
    for (const stream of this.#streams) {
      const held = this.#pending.get(stream);
      if (held) this.#hand(stream, held.parts.join(''), held.cut ? 'last' : 'whole');
    }
    this.#pending.clear();
  }

  #hold(stream: Stream, text: string): void {
    let held = this.#pending.get(stream);
    if (!held) {
      held = { parts: [], length: 0, cut: false };
      this.#pending.set(stream, held);
    }
    held.parts.push(text);
    held.length += text.length;
    if (held.length <= this.#maxLineChars) return;
    let rest = held.parts.join('');
    while (rest.length > this.#maxLineChars) {
      const high = rest.charCodeAt(this.#maxLineChars - 1);
      const cut = high >= 0xd800 && high <= 0xdbff ? this.#maxLineChars - 1 : this.#maxLineChars;
      this.#onLine(stream, rest.slice(0, cut), held.cut ? 'middle' : 'first');
      held.cut = true;
      rest = rest.slice(cut);
    }
    // What is left waits for the line's end: it is handed on then as the line's last piece.
    held.parts = [rest];
    held.length = rest.length;
  }

  #hand(stream: Stream, line: string, part: 'whole' | 'last'): void {
    this.#onLine(stream, line.endsWith('\r') ? line.slice(0, -1) : line, part);
  }
}
