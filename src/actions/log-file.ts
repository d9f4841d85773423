import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChildOutput, LogSink } from './action.ts';

/** Default cap of one task's log: 10 MiB. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

/** A log sink that knows whether it was capped and how many bytes it kept. */
export interface CappedLog extends LogSink {
  /** True once output past the cap was dropped. */
  readonly truncated: boolean;
  /** Bytes of output kept (at most the cap; the truncation note is not counted). */
  readonly bytes: number;
  /** The cap, in bytes. */
  readonly maxBytes: number;
}

/** A log file: the sink plus close(). */
export interface LogFile extends CappedLog {
  readonly path: string;
  /** Closes the file (removing it when a child left it empty); rejects with the error if it could not be written. */
  close(): Promise<void>;
}

/** Options of createLogFile and createMemoryLog. */
export interface LogOptions {
  /** Output kept before the log is truncated (default 10 MiB). */
  maxBytes?: number;
}

/** How often the size of a log a child writes into directly is checked against the cap while it runs. */
export const CHILD_CAP_CHECK_MS = 1000;

/** The line a log ends with once output past its cap was dropped. */
export const truncationNote = (maxBytes: number): string => `\n[dvm: log truncated at ${maxBytes} bytes]\n`;

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
 * `path` is set either way. stdout and stderr are interleaved in arrival order. A child process may write
 * into the file directly (`attachChild`, no pipes): its output is capped while it runs (checked every
 * CHILD_CAP_CHECK_MS) and exactly when it is released.
 */
export function createLogFile(path: string, options: LogOptions = {}): LogFile {
  const maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
  let fd: number | undefined;
  let failure: Error | undefined;
  let closed = false;
  let bytes = 0;
  let truncated = false;
  let keep = false;

  const open = (): number | undefined => {
    if (fd !== undefined || failure) return fd;
    try {
      try {
        fd = openSync(path, 'a');
      } catch (error) {
        // The first log of a run creates the run's logs directory.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        mkdirSync(dirname(path), { recursive: true });
        fd = openSync(path, 'a');
      }
    } catch (error) {
      failure = error as Error;
    }
    return fd;
  };

  const put = (data: string | Uint8Array) => {
    const file = open();
    if (file === undefined) return;
    try {
      if (typeof data === 'string') writeSync(file, data);
      else writeSync(file, data);
    } catch (error) {
      failure ??= error as Error;
    }
  };

  const sizeOnDisk = (file: number): number => {
    try {
      return fstatSync(file).size;
    } catch {
      return bytes;
    }
  };

  // Cuts what a child wrote past the cap; with `final`, also appends the note (once) and stops further writes.
  let overflowed = false;
  const capChildOutput = (file: number, final: boolean) => {
    const size = sizeOnDisk(file);
    if (size > maxBytes) {
      overflowed = true;
      try {
        ftruncateSync(file, maxBytes);
      } catch (error) {
        failure ??= error as Error;
      }
    }
    bytes = Math.min(size, maxBytes);
    if (final && overflowed && !truncated) {
      truncated = true;
      put(truncationNote(maxBytes));
    }
  };

  return {
    path,
    maxBytes,
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
    attachChild(): ChildOutput | undefined {
      if (closed || truncated) return undefined;
      const file = open();
      if (file === undefined) return undefined;
      const watch = setInterval(() => capChildOutput(file, false), CHILD_CAP_CHECK_MS);
      watch.unref();
      let released = false;
      return {
        fd: file,
        release() {
          if (released) return;
          released = true;
          clearInterval(watch);
          capChildOutput(file, true);
        },
      };
    },
    keepFile() {
      keep = true;
    },
    close() {
      if (closed) return failure ? Promise.reject(failure) : Promise.resolve();
      closed = true;
      if (fd !== undefined) {
        try {
          // A child given the file that printed nothing leaves no file, like a task that was never attached.
          if (!keep && bytes === 0 && sizeOnDisk(fd) === 0) unlinkSync(path);
        } catch {
          // Someone else removed it: nothing to clean.
        }
        try {
          closeSync(fd);
        } catch (error) {
          failure ??= error as Error;
        }
        fd = undefined;
      }
      return failure ? Promise.reject(failure) : Promise.resolve();
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
    maxBytes,
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
