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
