/** Where log lines go: a process stream, or a test's sink (only streams report failed writes). */
interface LogSink {
  write(text: string, done?: (error?: Error | null) => void): unknown;
  on?(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
  destroyed?: boolean;
  writableEnded?: boolean;
}

/**
 * A log for a long-running command (`dvm serve`) that outlives its sink: when writing to `out` fails (a closed pipe,
 * `dvm serve | logger` with the logger restarted; a full disk), it says so once on `err` and writes its lines there
 * from then on, instead of ending the process as a failed write ends other commands (bin/dvm.js). Failures to write
 * to `err` are dropped: nothing a log sink does stops the agent.
 */
export function resilientLog(out: LogSink, err: LogSink): (line: string) => void {
  let broken = false;
  // A process stream's own listener (bin/dvm.js) would exit on the first failed write: this one takes its place.
  if (out === process.stdout) process.stdout.removeAllListeners('error');
  out.on?.('error', (error) => {
    if (broken) return;
    broken = true;
    write(
      err,
      `${stamp()} error DVM_IO_ERROR: the log output failed (${error.code ?? error.message}); log lines go to stderr from now on, and the agent goes on\n`,
    );
  });
  err.on?.('error', () => {});
  return (line) => {
    const text = `${stamp()} ${line}\n`;
    if (broken) return write(err, text);
    // A line whose write fails (before the stream reports it broken) goes to stderr instead: none is lost.
    write(out, text, (error) => {
      if (error) write(err, text);
    });
  };
}

// The time a log line starts with, in UTC to the second.
function stamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

// Writes to a stream that may have failed: a write after the failure is dropped (the stream reports it, once, as an
// 'error' event that the listeners above ignore).
function write(stream: LogSink, text: string, failed?: (error?: Error | null) => void): void {
  if (stream.destroyed || stream.writableEnded) {
    failed?.(new Error('the stream is closed'));
    return;
  }
  try {
    stream.write(text, failed);
  } catch (error) {
    failed?.(error as Error);
  }
}
