import { lineRedactor } from '../redact.ts';
import type { ExecutionEvent } from './executions.ts';

/** Emits one event of an execution. */
export type EmitEvent = (type: ExecutionEvent['type'], data: Record<string, unknown>) => void;

/**
 * The log events of one execution, capped like its output: lines are emitted (through `redact`) until their
 * UTF-8 bytes, one newline each, would pass `maxBytes`; then one `truncated` event with the byte counts, and no
 * more log events (progress and the end still stream); each stream's lines go through `redact` in order
 * (lineRedactor), so that all lines of a private key, from its BEGIN line to its END line, are redacted.
 */
export function cappedLogEvents(
  maxBytes: number,
  emit: EmitEvent,
  redact: (line: string) => string,
): (stream: 'stdout' | 'stderr', line: string) => void {
  let streamed = 0;
  let truncated = false;
  const redactors = new Map<string, (line: string) => string>();
  const redactLine = (stream: string, line: string): string => {
    let redactor = redactors.get(stream);
    if (!redactor) {
      redactor = lineRedactor(redact);
      redactors.set(stream, redactor);
    }
    return redactor(line);
  };
  return (stream, line) => {
    if (truncated) return;
    const bytes = Buffer.byteLength(line) + 1;
    if (streamed + bytes > maxBytes) {
      truncated = true;
      emit('truncated', { max_bytes: maxBytes, streamed_bytes: streamed });
      return;
    }
    streamed += bytes;
    emit('log', { stream, line: redactLine(stream, line) });
  };
}

/** Hands whole lines of written chunks to `onLine`, per stream; a chunk's unfinished last line waits for the next. */
export interface LineSplitter {
  write(stream: 'stdout' | 'stderr', chunk: string): void;
  /** Hands on what waits (the last lines, without their newline): once the output has ended. */
  flush(): void;
}

// A line that never ends is handed on in pieces of this many characters rather than held without bound.
const MAX_PENDING_LINE = 64 * 1024;

/** A LineSplitter: a line a process wrote in two chunks stays one line (a private key's BEGIN marker is seen whole). */
export function lineSplitter(onLine: (stream: 'stdout' | 'stderr', line: string) => void): LineSplitter {
  const pending = { stdout: '', stderr: '' };
  const hand = (stream: 'stdout' | 'stderr', line: string) => {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text) onLine(stream, text);
  };
  return {
    write(stream, chunk) {
      const lines = (pending[stream] + chunk).split('\n');
      let rest = lines.pop() ?? '';
      for (const line of lines) hand(stream, line);
      for (; rest.length > MAX_PENDING_LINE; rest = rest.slice(MAX_PENDING_LINE))
        hand(stream, rest.slice(0, MAX_PENDING_LINE));
      pending[stream] = rest;
    },
    flush() {
      for (const stream of ['stdout', 'stderr'] as const) {
        hand(stream, pending[stream]);
        pending[stream] = '';
      }
    },
  };
}
