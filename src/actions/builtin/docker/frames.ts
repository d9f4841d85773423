import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_MAX_LINE_CHARS, LineAssembler, type LinePart } from '../../line-assembler.ts';

/** One line of container output and the stream it came from; `part` when it is a piece of a longer line. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  part?: Exclude<LinePart, 'whole'>;
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
  #entries = 0;

  /** `maxLineChars`: past it a line that has not ended is handed on in pieces, each with its `part` (memory stays bounded). */
  constructor(tty: boolean, maxLineChars = DEFAULT_MAX_LINE_CHARS) {
    this.#tty = tty;
    this.#lines = new LineAssembler(
      (stream, line, part) => this.#found.push(part === 'whole' ? { stream, line } : { stream, line, part }),
      maxLineChars,
    );
  }

  /**
   * The log entries read so far, as Docker's `tail` counts them: frames (a line, or a 16 KiB piece of a longer one);
   * for a TTY container, whose stream has no frames, the lines.
   */
  get entries(): number {
    return this.#entries;
  }

  /** Feeds bytes; returns the complete lines they finish. */
  push(chunk: Buffer): LogLine[] {
    if (this.#tty) {
      this.#text('stdout', chunk);
      const found = this.#take();
      for (const f of found) if (f.part === undefined || f.part === 'last') this.#entries++;
      return found;
    }
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= 8) {
      const size = this.#buffer.readUInt32BE(4);
      if (this.#buffer.length < 8 + size) break;
      this.#text(this.#buffer[0] === 2 ? 'stderr' : 'stdout', this.#buffer.subarray(8, 8 + size));
      this.#entries++;
      this.#buffer = this.#buffer.subarray(8 + size);
    }
    return this.#take();
  }

  /** The last unterminated lines, at the end of the stream. */
  end(): LogLine[] {
    for (const stream of ['stdout', 'stderr'] as const)
      this.#lines.write(stream, this.#decoders[stream].end());
    this.#lines.flush();
    const found = this.#take().filter((f) => f.line !== '' || f.part !== undefined);
    if (this.#tty) for (const f of found) if (f.part === undefined || f.part === 'last') this.#entries++;
    return found;
  }

  #text(stream: 'stdout' | 'stderr', bytes: Buffer): void {
    this.#lines.write(stream, this.#decoders[stream].write(bytes));
  }

  #take(): LogLine[] {
    const found = this.#found;
    this.#found = [];
    return found;
  }
}
