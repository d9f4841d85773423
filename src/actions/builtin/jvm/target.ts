import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionContext, LogSink } from '../../action.ts';
import { createMemoryLog } from '../../log-file.ts';
import { runProcess } from '../../process.ts';
import { exitedError, jcmdReason, rawOutput, watchJvm } from './exit.ts';

/** Which JVM an action targets: a pid, or a main class (exact, or a suffix after a dot). */
export type JvmTarget = { pid?: number; mainClass?: string };

/** JSON Schema properties that pick the target JVM. */
export const JVM_TARGET_PROPERTIES = {
  pid: { type: 'integer', minimum: 1, description: 'Process id of the JVM.' },
  mainClass: {
    type: 'string',
    pattern: '^[A-Za-z_$][A-Za-z0-9_$.]*$',
    description: 'Main class (or a suffix of it) as `jcmd -l` lists it.',
  },
} as const;

/** The jcmd binary: $JAVA_HOME/bin/jcmd when present, else `jcmd` from PATH. */
export function jcmdPath(env: Record<string, string | undefined>): string {
  const home = env.JAVA_HOME;
  return home && existsSync(join(home, 'bin', 'jcmd')) ? join(home, 'bin', 'jcmd') : 'jcmd';
}

// The attach to a JVM in flight, by pid. The first attach starts the JVM's attach listener with a SIGQUIT; attaches
// that race it send SIGQUITs of their own, and a JVM that gets one after its listener started prints a full thread
// dump to its stdout (into the service's log; a stdout nobody reads then blocks the JVM's VM thread). So an attach
// to a pid waits for the one in flight, and only then runs, alongside the others that waited.
const attaching = new Map<string, Promise<unknown>>();

/**
 * What jcmd printed, and whether it printed more than dvm keeps (64 MiB: the rest was dropped). When it did, `tail`
 * is the end of what it printed on stdout (its last 1 MiB, from the first whole line) and `totalBytes` all it printed.
 */
export type JcmdOutput = { text: string; capped: boolean; tail?: string; totalBytes?: number };

/**
 * Runs `jcmd ARGS…` and returns what it printed; DVM_CONNECTOR_UNAVAILABLE when jcmd is missing, DVM_TARGET_NOT_FOUND
 * when the JVM is gone (or exits while jcmd talks to it). Calls on one pid never race its first attach (see `attaching`).
 */
export async function jcmd(args: string[], context: ActionContext): Promise<string> {
  return (await jcmdOutput(args, context)).text;
}

/** Runs `jcmd ARGS…` like `jcmd`, and tells whether its output was capped. */
export async function jcmdOutput(args: string[], context: ActionContext): Promise<JcmdOutput> {
  const pid = /^\d+$/.test(args[0] ?? '') ? args[0] : undefined;
  const inFlight = pid ? attaching.get(pid) : undefined;
  if (inFlight) {
    await inFlight.catch(() => {});
    return runJcmd(args, context);
  }
  const run = runJcmd(args, context);
  if (pid) {
    attaching.set(pid, run);
    void run.then(
      () => attaching.delete(pid),
      () => attaching.delete(pid),
    );
  }
  return run;
}

const JCMD_MAX_BYTES = 64 * 1024 * 1024;
// The end of jcmd's output kept besides its head: a thread dump ends with the deadlocks it found.
const JCMD_TAIL_BYTES = 1024 * 1024;

/** The last `maxBytes` bytes written (at least: whole chunks are dropped). */
function tailKeeper(maxBytes: number) {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  return {
    write(chunk: string | Uint8Array) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(bytes);
      kept += bytes.byteLength;
      while (chunks.length > 1 && kept - chunks[0].byteLength >= maxBytes)
        kept -= chunks.shift()?.byteLength ?? 0;
    },
    // From the first line that starts within the last maxBytes (a line cut at the front is no line to read).
    text(): string {
      const last = Buffer.concat(chunks).subarray(-maxBytes);
      const start = last.indexOf(10);
      return start < 0 ? '' : last.subarray(start + 1).toString('utf8');
    },
  };
}
// What jcmd prints when the JVM's end of the attach connection went away under it (the JVM died, or is dying).
const CONNECTION_LOST =
  /IOException: (No such process|Connection reset|Premature EOF|Broken pipe|Stream closed)/;

/** What a jcmd call does, as an error names it: "the dump" (Thread.print), else "jcmd VM.version". */
function jcmdDoing(args: string[]): string {
  return args[1] === 'Thread.print' ? 'the dump' : `jcmd ${args.slice(1).join(' ')}`;
}

async function runJcmd(args: string[], context: ActionContext): Promise<JcmdOutput> {
  const log = createMemoryLog({ maxBytes: JCMD_MAX_BYTES });
  const tail = tailKeeper(JCMD_TAIL_BYTES);
  // The head goes to the capped log, and the end to the tail too: what a dump over the cap ends with is not lost.
  let total = 0;
  const sink: LogSink & { readonly truncated: boolean } = {
    maxBytes: log.maxBytes,
    get truncated() {
      return log.truncated;
    },
    write(stream, chunk) {
      log.write(stream, chunk);
      total += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      // The end of what jcmd answered: its stdout (what it says on stderr is no part of a dump).
      if (stream === 'stdout') tail.write(chunk);
    },
  };
  const pid = /^\d+$/.test(args[0] ?? '') ? Number(args[0]) : undefined;
  const watch = pid !== undefined ? watchJvm(pid) : undefined;
  try {
    await runProcess([jcmdPath(context.env), ...args], context, {
      log: sink,
      label: `jcmd ${args.join(' ')}`,
    });
  } catch (error) {
    const code = (error as DvmError).code;
    if (code === 'DVM_EXEC_NOT_FOUND') {
      throw new DvmError('DVM_CONNECTOR_UNAVAILABLE', 'jcmd is not installed (it ships with every JDK)', {
        fix: 'Install a JDK, or set JAVA_HOME to one.',
        details: { origin: 'system' },
      });
    }
    if (code === 'DVM_TASK_FAILED') {
      const text = log.text();
      // A JVM that died under jcmd: say so, not what jcmd's stack trace or a guess about attach permissions says.
      const lost = CONNECTION_LOST.test(text);
      if (watch && (await watch.exited(context.signal, lost ? undefined : 0))) {
        throw exitedError(watch.pid, jcmdDoing(args), text);
      }
      const reason = jcmdReason(text);
      if (/AttachNotSupportedException|No such process|not found|Unable to open socket/i.test(text)) {
        throw new DvmError('DVM_TARGET_NOT_FOUND', `no JVM answers as pid ${args[0]}: ${reason}`, {
          fix: 'List the JVMs with `jcmd -l` (or jvm.status with mainClass).',
          details: { origin: 'user', output: rawOutput(text) },
        });
      }
      throw new DvmError('DVM_TASK_FAILED', `jcmd ${args.join(' ')} failed: ${reason}`, {
        fix: lost
          ? 'The connection to the JVM broke off: run it again, and check the JVM (its log) if it keeps happening.'
          : 'Check that the JVM runs as the same user as dvm and allows attach.',
        details: { origin: 'system', output: rawOutput(text) },
      });
    }
    throw error;
  }
  if (!log.truncated) return { text: log.text(), capped: false };
  return { text: log.text(), capped: true, tail: tail.text(), totalBytes: total };
}

// The JDK's launcher of single-file programs (`java App.java`), by its class name in JDK 11–21 and 22+.
const SOURCE_LAUNCHER = /(^|[./])com\.sun\.tools\.javac\.launcher\.(Main|SourceLauncher)$/;

/**
 * The main class of a `jcmd -l` line: its first word, except for a program run from source (`java App.java`),
 * which jcmd lists as the source launcher followed by the file: that is the file's class, App.
 */
export function mainClassOf(first: string, argument: string | undefined): string {
  if (SOURCE_LAUNCHER.test(first) && argument?.endsWith('.java'))
    return basename(argument).slice(0, -'.java'.length);
  return first || '(unknown)';
}

/** Resolves the target to one running JVM: its pid and main class. */
export async function resolveJvm(
  target: JvmTarget,
  context: ActionContext,
): Promise<{ pid: number; mainClass: string }> {
  if (target.pid === undefined && !target.mainClass) {
    throw new DvmError('DVM_ACTION_INPUT_INVALID', 'give the JVM as pid or mainClass', {
      fix: 'Pass --param pid=1234 or --param mainClass=com.example.App (see `jcmd -l`).',
      details: { origin: 'user' },
    });
  }
  const running = (await jcmd(['-l'], context))
    .split('\n')
    .map((line) => /^(\d+) (\S*)(?: (\S+))?/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && !m[2].includes('sun.tools.jcmd.JCmd'))
    .map((m) => ({ pid: Number(m[1]), mainClass: mainClassOf(m[2], m[3]) }));
  const runsMain = (j: { mainClass: string }) =>
    j.mainClass === target.mainClass || j.mainClass.endsWith(`.${target.mainClass}`);
  const matches =
    target.pid !== undefined ? running.filter((j) => j.pid === target.pid) : running.filter(runsMain);
  const listing = running.map((j) => `${j.pid} ${j.mainClass}`).join(', ') || 'none';
  // Given both, they must name the same JVM: a pid that runs another main class is not the JVM that was meant.
  if (target.pid !== undefined && target.mainClass && matches.length === 1 && !runsMain(matches[0])) {
    const others = running.filter(runsMain).map((j) => j.pid);
    throw new DvmError(
      'DVM_TARGET_NOT_FOUND',
      `pid ${target.pid} runs ${matches[0].mainClass}, not ${target.mainClass}${others.length > 0 ? ` (that runs as pid ${others.join(', ')})` : ''}; running: ${listing}`,
      {
        fix: 'Give the pid alone, the mainClass alone, or a pid and the main class that pid runs (see `jcmd -l`).',
        details: { origin: 'user', pid: target.pid, mainClass: matches[0].mainClass },
      },
    );
  }
  if (matches.length === 0) {
    throw new DvmError(
      'DVM_TARGET_NOT_FOUND',
      `no JVM ${target.pid !== undefined ? `with pid ${target.pid}` : `runs ${target.mainClass}`}; running: ${listing}`,
      {
        fix: 'Pick one of the running JVMs.',
        details: { origin: 'user' },
      },
    );
  }
  if (matches.length > 1) {
    throw new DvmError(
      'DVM_AMBIGUOUS',
      `${matches.length} JVMs run ${target.mainClass}: ${matches.map((j) => j.pid).join(', ')}`,
      {
        fix: 'Pass the pid instead.',
        details: { origin: 'user' },
      },
    );
  }
  return matches[0];
}

/**
 * The input with its JVM named by both its pid and its whole main class, as policies decide on it: a rule on a main
 * class holds when the caller sends the pid or a suffix of the class. Undefined when no JVM answers to it (or neither
 * is given): the input is then decided on as sent, and the action fails the same way. Several JVMs answering
 * (DVM_AMBIGUOUS) and any other failure (jcmd missing, the request stopped) are thrown: the request must not be
 * decided on the alias.
 */
export async function canonicalJvm<Input extends JvmTarget>(
  input: Input,
  context: ActionContext,
): Promise<Input | undefined> {
  try {
    const { pid, mainClass } = await resolveJvm(input, context);
    return { ...input, pid, mainClass };
  } catch (error) {
    const code = (error as DvmError)?.code;
    // Several JVMs by that suffix is refused (thrown): decided as sent, it would name one alone once the others exit.
    const unanswered = ['DVM_TARGET_NOT_FOUND', 'DVM_ACTION_INPUT_INVALID'].includes(code);
    if (unanswered && !context.signal.aborted) return undefined;
    throw error;
  }
}
