import { LineAssembler, maxLineCharsFor } from '../../actions/line-assembler.ts';
import { lineRedactor } from '../redact.ts';
import { CutKeyHold } from './cut-key-hold.ts';
import type { ExecutionEvent } from './executions.ts';

/** Emits one event of an execution. */
export type EmitEvent = (type: ExecutionEvent['type'], data: Record<string, unknown>) => void;

/** The log events of one execution: its lines go in per stream, and `flush` passes on what waits once it ended. */
export interface LogEvents {
  line(stream: 'stdout' | 'stderr', line: string): void;
  /** A line before the log's first, read only for what it opens (a secret's value below it): never emitted. */
  context(stream: 'stdout' | 'stderr', line: string): void;
  flush(): void;
}

/**
 * The log events of one execution, capped like its output: lines are emitted (through `redact`) until their
 * UTF-8 bytes, one newline each, would pass `maxBytes`; then one `truncated` event with the byte counts, and no
 * more log events (progress and the end still stream); each stream's lines go through `redact` in order
 * (lineRedactor), so that all lines of a private key, from its BEGIN line to its END line, are redacted, and a log
 * that opens inside a key (its BEGIN line cut off by a tail) has the key's body held and redacted
 * (CutKeyHold).
 */
export function cappedLogEvents(
  maxBytes: number,
  emit: EmitEvent,
  redact: (line: string) => string,
): LogEvents {
  let streamed = 0;
  let truncated = false;
  const emitLine = (stream: 'stdout' | 'stderr', redactLine: (line: string) => string, line: string) => {
    if (truncated) return;
    const bytes = Buffer.byteLength(line) + 1;
    if (streamed + bytes > maxBytes) {
      truncated = true;
      emit('truncated', { max_bytes: maxBytes, streamed_bytes: streamed });
      return;
    }
    streamed += bytes;
    emit('log', { stream, line: redactLine(line) });
  };
  const redactors = new Map<string, (line: string) => string>();
  const redactorOf = (stream: string) => {
    let redactor = redactors.get(stream);
    if (!redactor) {
      redactor = lineRedactor(redact);
      redactors.set(stream, redactor);
    }
    return redactor;
  };
  const hold = new CutKeyHold(({ stream, line }) => emitLine(stream, redactorOf(stream), line));
  return {
    line: (stream, line) => {
      if (!truncated) hold.push(stream, line);
    },
    context: (stream, line) => {
      redactorOf(stream)(line);
    },
    flush: () => hold.flush(),
  };
}

/** Hands whole lines of written chunks to `onLine`, per stream; a chunk's unfinished last line waits for the next. */
export interface LineSplitter {
  write(stream: 'stdout' | 'stderr', chunk: string): void;
  /** Hands on what waits (the last lines, without their newline): once the output has ended. */
  flush(): void;
}

/**
 * A LineSplitter for log events capped at `capBytes` (cappedLogEvents' maxBytes): a line a process wrote in two
 * chunks stays one line (a private key's BEGIN marker is seen whole, a secret is redacted whole). A line is held whole
 * up to just past the cap (maxLineCharsFor): a longer one ends the events with `truncated`, so no piece of it, and
 * no secret cut in two, is ever streamed. Empty lines are dropped.
 */
export function lineSplitter(
  onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  capBytes: number,
): LineSplitter {
  const lines = new LineAssembler<'stdout' | 'stderr'>((stream, line) => {
    if (line) onLine(stream, line);
  }, maxLineCharsFor(capBytes));
  return { write: (stream, chunk) => lines.write(stream, chunk), flush: () => lines.flush() };
}
