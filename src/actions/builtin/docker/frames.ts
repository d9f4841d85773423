/** One line of container output and the stream it came from. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

/**
 * Splits Docker's log stream into lines: non-TTY containers multiplex stdout and stderr in frames (1 byte stream,
 * 3 zero bytes, 4 bytes big-endian length, payload); a TTY container's stream is raw stdout.
 */
export class LogDemuxer {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #partial = { stdout: '', stderr: '' };
  readonly #tty: boolean;

  constructor(tty: boolean) {
    this.#tty = tty;
  }

  /** Feeds bytes; returns the complete lines they finish. */
  push(chunk: Buffer): LogLine[] {
    if (this.#tty) return this.#text('stdout', chunk.toString('utf8'));
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const lines: LogLine[] = [];
    while (this.#buffer.length >= 8) {
      const size = this.#buffer.readUInt32BE(4);
      if (this.#buffer.length < 8 + size) break;
      const stream = this.#buffer[0] === 2 ? 'stderr' : 'stdout';
      lines.push(...this.#text(stream, this.#buffer.subarray(8, 8 + size).toString('utf8')));
      this.#buffer = this.#buffer.subarray(8 + size);
    }
    return lines;
  }

  /** The last unterminated lines, at the end of the stream. */
  end(): LogLine[] {
    const lines: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream]) lines.push({ stream, line: this.#partial[stream] });
      this.#partial[stream] = '';
    }
    return lines;
  }

  #text(stream: 'stdout' | 'stderr', text: string): LogLine[] {
    const parts = (this.#partial[stream] + text).split('\n');
    this.#partial[stream] = parts.pop() ?? '';
    return parts.map((line) => ({ stream, line: line.replace(/\r$/, '') }));
  }
}
