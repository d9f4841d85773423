import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { LogSink } from './action.ts';

/** Default cap of one task's log: 10 MiB. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

/** A log sink that knows whether it was capped and how many bytes it kept. */
export interface CappedLog extends LogSink {
  /** True once output past the cap was dropped. */
  readonly truncated: boolean;
  /** Bytes of output kept (at most the cap; the truncation note is not counted). */
  readonly bytes: number;
}

/** A log file: the sink plus close(). */
export interface LogFile extends CappedLog {
  readonly path: string;
  /** Flushes and closes the file; rejects with the write error if the file could not be written. */
  close(): Promise<void>;
}

/** Options of createLogFile and createMemoryLog. */
export interface LogOptions {
  /** Output kept before the log is truncated (default 10 MiB). */
  maxBytes?: number;
}

const truncationNote = (maxBytes: number) => `\n[dvm: log truncated at ${maxBytes} bytes]\n`;

// The first `room` bytes of a chunk (the part that still fits under the cap).
function fit(chunk: string | Uint8Array, room: number): Uint8Array {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  return bytes.subarray(0, room);
}

function byteLength(chunk: string | Uint8Array): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
}

/**
 * An append-only log file capped at `maxBytes`: past the cap it writes one truncation line and drops the rest.
 * The file (and its directory) is created on the first write, so a task that prints nothing leaves no file;
 * `path` is set either way. stdout and stderr are interleaved in arrival order.
 */
export function createLogFile(path: string, options: LogOptions = {}): LogFile {
  const maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
  let stream: WriteStream | undefined;
  let failure: Error | undefined;
  let closed = false;
  let bytes = 0;
  let truncated = false;

  const open = (): WriteStream => {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      failure ??= error as Error;
    }
    const s = createWriteStream(path, { flags: 'a' });
    s.on('error', (error) => {
      failure ??= error;
    });
    return s;
  };

  const put = (data: string | Uint8Array) => {
    stream ??= open();
    stream.write(data);
  };

  return {
    path,
    get truncated() {
      return truncated;
    },
    get bytes() {
      return bytes;
    },
    write(_stream, chunk) {
      if (closed || truncated) return;
      const size = byteLength(chunk);
      if (size === 0) return;
      if (bytes + size <= maxBytes) {
        bytes += size;
        put(chunk);
        return;
      }
      const room = maxBytes - bytes;
      if (room > 0) put(fit(chunk, room));
      bytes = maxBytes;
      truncated = true;
      put(truncationNote(maxBytes));
    },
    close() {
      closed = true;
      const s = stream;
      if (!s) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const done = () => (failure ? reject(failure) : resolve());
        if (s.closed || s.destroyed) {
          done();
          return;
        }
        s.end(() => done());
        s.once('error', () => done());
      });
    },
  };
}

/** A capped log kept in memory (callbacks, the agent API, tests); `text()` decodes it as UTF-8. */
export function createMemoryLog(options: LogOptions = {}): CappedLog & { text(): string } {
  const maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let truncated = false;
  return {
    get truncated() {
      return truncated;
    },
    get bytes() {
      return bytes;
    },
    write(_stream, chunk) {
      if (truncated) return;
      const size = byteLength(chunk);
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (bytes + size <= maxBytes) {
        bytes += size;
        chunks.push(data);
        return;
      }
      chunks.push(data.subarray(0, maxBytes - bytes), Buffer.from(truncationNote(maxBytes)));
      bytes = maxBytes;
      truncated = true;
    },
    text() {
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
