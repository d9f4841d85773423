import { DvmError } from '../../../errors/dvm-error.ts';
import { isAlive, processStartTime } from '../../../runtime/process/proc.ts';

// How long a JVM that broke off its answer may take to finish exiting: one with thousands of threads needs a while
// after its socket closed, and until then its pid still answers.
const EXIT_WAIT_MS = 1500;
const POLL_MS = 50;
// The raw jcmd text an error keeps in its details.
const RAW_BYTES = 4096;

/**
 * A JVM watched across jcmd calls: whether it exited since (a zombie, or a pid reused by another process, counts),
 * waiting up to waitMs (default 1.5 s) for a JVM that is still on its way out.
 */
export type JvmWatch = { pid: number; exited(signal?: AbortSignal, waitMs?: number): Promise<boolean> };

/** Starts watching the JVM with this pid (its start time tells it from a later process that reuses the pid). */
export function watchJvm(pid: number): JvmWatch {
  const startTime = processStartTime(pid);
  return {
    pid,
    async exited(signal, waitMs = EXIT_WAIT_MS) {
      const deadline = performance.now() + waitMs;
      for (;;) {
        if (!isAlive(pid, startTime)) return true;
        if (performance.now() >= deadline || signal?.aborted) return false;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
  };
}

/**
 * What a failed jcmd said, in one line: its first Java exception line ("java.io.IOException: Connection reset by
 * peer"), else its last line that is not a stack frame; never the frames, nor jcmd's "PID:" header.
 */
export function jcmdReason(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(
      (line) =>
        line.trim() !== '' &&
        !/^\s+at \S|^\s*\.\.\. \d+ (more|common frames omitted)$/.test(line) &&
        !/^\d+:$/.test(line),
    );
  const exception = lines.find((line) => /^[\w$.]+(Exception|Error)(: |$)/.test(line.trim()));
  const reason = (exception ?? lines.at(-1) ?? 'no output').trim();
  return reason.length > 300 ? `${reason.slice(0, 297)}...` : reason;
}

/** The end of jcmd's raw text (where it broke off, and the exception it printed last), for an error's details. */
export function rawOutput(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= RAW_BYTES ? text : `[cut ...]${bytes.subarray(-RAW_BYTES).toString('utf8')}`;
}

/** DVM_TARGET_NOT_FOUND for a JVM that exited while jcmd talked to it. */
export function exitedError(pid: number, during: string, text?: string): DvmError {
  return new DvmError(
    'DVM_TARGET_NOT_FOUND',
    `the JVM (pid ${pid}) exited during ${during}${text !== undefined ? ` (jcmd: ${jcmdReason(text)})` : ''}`,
    {
      fix: 'Find out why the JVM stopped (its log, the OOM killer, a restart), then target the JVM that runs now (`jcmd -l`, or give mainClass).',
      details: { origin: 'system', pid, ...(text !== undefined ? { output: rawOutput(text) } : {}) },
    },
  );
}

/**
 * DVM_TASK_FAILED for a jcmd answer cut short while the JVM still runs; `totalBytes`: all jcmd printed, when `text` is
 * only the end of it.
 */
export function incompleteError(
  pid: number,
  what: string,
  missing: string,
  text: string,
  totalBytes?: number,
): DvmError {
  return new DvmError(
    'DVM_TASK_FAILED',
    `${what} of the JVM (pid ${pid}) is incomplete: jcmd's output (${totalBytes ?? Buffer.byteLength(text)} bytes) ends before ${missing}`,
    {
      fix: 'Run it again; if the output stays cut short, look at the JVM (its log, its memory) and at what stops jcmd.',
      details: { origin: 'system', pid, output: rawOutput(text) },
    },
  );
}
