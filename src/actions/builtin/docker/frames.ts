import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_MAX_LINE_CHARS, LineAssembler, type LinePart } from '../../line-assembler.ts';

const NEWLINE = 0x0a;

/** The size of the pieces Docker keeps a longer line in (one log entry each). */
export const DOCKER_LOG_PIECE_BYTES = 16 * 1024;

/**
 * One line of container output and the stream it came from; `part` when it is a piece of a longer line; `entry`, the
 * index of Docker's log entry (frame) its line started in.
 */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  part?: Exclude<LinePart, 'whole'>;
  entry: number;
}

/**
 * Splits Docker's log stream into lines: non-TTY containers multiplex stdout and stderr in frames (1 byte stream,
 * 3 zero bytes, 4 bytes big-endian length, payload); a TTY container's stream is raw stdout.
 */
export class LogDemuxer {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #tty: boolean;
  // Bytes to text per stream: a character split between two frames or chunks is decoded whole.
  readonly #decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  readonly #lines: LineAssembler<'stdout' | 'stderr'>;
  #found: LogLine[] = [];
  // Frames read so far; per stream, the frame its current line started in, and whether a line has begun unended.
  #entries = 0;
  readonly #lineStart = { stdout: 0, stderr: 0 };
  readonly #open = { stdout: false, stderr: false };
  // A TTY container's stream, read as Docker keeps it: the raw bytes of the line so far and the entry it started in,
  // and the start entries of the lines whose newline was read but which are not handed on yet.
  #ttyRaw = 0;
  #ttyLineEntry = 0;
  readonly #ttyEnded: number[] = [];

  /** `maxLineChars`: past it a line that has not ended is handed on in pieces, each with its `part` (memory stays bounded). */
  constructor(tty: boolean, maxLineChars = DEFAULT_MAX_LINE_CHARS) {
    this.#tty = tty;
    this.#lines = new LineAssembler((stream, line, part) => {
      const ends = part === 'whole' || part === 'last';
      if (tty) {
        // The line's start entry, as #ttyBytes counted it.
        const entry = (ends ? this.#ttyEnded.shift() : this.#ttyEnded[0]) ?? this.#ttyLineEntry;
        this.#found.push(part === 'whole' ? { stream, line, entry } : { stream, line, part, entry });
        return;
      }
      const entry = this.#lineStart[stream];
      this.#found.push(part === 'whole' ? { stream, line, entry } : { stream, line, part, entry });
      // The next line of the stream starts in the frame that ended this one (if anything follows in it).
      if (ends) this.#lineStart[stream] = Math.max(0, this.#entries - 1);
    }, maxLineChars);
  }

  /**
   * Docker's log entries read so far (a line, or a 16 KiB piece of a longer one), which its `tail` counts: the frames;
   * for a TTY container, whose stream has no frames, each line's pieces as Docker cuts them from its raw bytes (read
   * without timestamps: Docker puts one before each piece).
   */
  get entries(): number {
    return this.#entries;
  }

  /** Feeds bytes; returns the complete lines they finish. */
  push(chunk: Buffer): LogLine[] {
    if (this.#tty) {
      this.#ttyBytes(chunk);
      this.#text('stdout', chunk);
      return this.#take();
    }
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= 8) {
      const size = this.#buffer.readUInt32BE(4);
      if (this.#buffer.length < 8 + size) break;
      const stream = this.#buffer[0] === 2 ? 'stderr' : 'stdout';
      this.#entries++;
      if (!this.#open[stream]) this.#lineStart[stream] = this.#entries - 1;
      this.#text(stream, this.#buffer.subarray(8, 8 + size));
      this.#buffer = this.#buffer.subarray(8 + size);
    }
    return this.#take();
  }

  // Counts a TTY stream's entries as Docker keeps them: each line's raw bytes (its `\r\n` included) in pieces of
  // DOCKER_LOG_PIECE_BYTES, the last line without a newline too.
  #ttyBytes(chunk: Buffer, ended = false): void {
    let at = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, at)) {
      this.#ttyLine(this.#ttyRaw + newline - at + 1);
      at = newline + 1;
    }
    this.#ttyRaw += chunk.length - at;
    if (ended && this.#ttyRaw > 0) this.#ttyLine(this.#ttyRaw);
  }

  #ttyLine(bytes: number): void {
    this.#ttyEnded.push(this.#ttyLineEntry);
    this.#entries += Math.max(1, Math.ceil(bytes / DOCKER_LOG_PIECE_BYTES));
    this.#ttyLineEntry = this.#entries;
    this.#ttyRaw = 0;
  }

  /** The last unterminated lines, at the end of the stream. */
  end(): LogLine[] {
    if (this.#tty) this.#ttyBytes(Buffer.alloc(0), true);
    for (const stream of ['stdout', 'stderr'] as const)
      this.#lines.write(stream, this.#decoders[stream].end());
    this.#lines.flush();
    return this.#take().filter((f) => f.line !== '' || f.part !== undefined);
  }

  #text(stream: 'stdout' | 'stderr', bytes: Buffer): void {
    const text = this.#decoders[stream].write(bytes);
    this.#lines.write(stream, text);
    // A frame that ends inside a character (nothing decoded yet) has begun a line too.
    if (bytes.length > 0) this.#open[stream] = text.length === 0 || !text.endsWith('\n');
  }

  #take(): LogLine[] {
    const found = this.#found;
    this.#found = [];
    return found;
  }
}

/** Counts the frames (Docker's log entries) of a non-TTY container's log stream, without decoding them. */
export class FrameCounter {
  #pending = 0; // bytes of the current frame still to come
  #header: Buffer = Buffer.alloc(0); // the start of a header split between chunks
  count = 0;

  /** Feeds bytes of the stream. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#pending > 0) {
        const skipped = Math.min(this.#pending, chunk.length - at);
        this.#pending -= skipped;
        at += skipped;
        continue;
      }
      const needed = 8 - this.#header.length;
      this.#header = Buffer.concat([this.#header, chunk.subarray(at, at + needed)]);
      at += Math.min(needed, chunk.length - at);
      if (this.#header.length < 8) return;
      this.#pending = this.#header.readUInt32BE(4);
      this.#header = Buffer.alloc(0);
      this.count++;
    }
  }
}
