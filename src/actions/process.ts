import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { DvmError, isDvmError } from '../errors/dvm-error.ts';
import type { ActionContext, LogSink } from './action.ts';

import { watchAbort } from './on-abort.ts';
import { groupExists, groupRuns, KILL_GRACE_MS, signalGroup } from './process-group.ts';
import { type RemoteChild, SpawnPool } from './spawner/spawn-pool.ts';

export { KILL_GRACE_MS };

// After the main process exits, how long its output pipes may stay open (held by a background child).
const CLOSE_GRACE_MS = 200;
// How often a stopped group is checked for survivors after its leader exited.
const GROUP_POLL_MS = 50;
// Longest delay setTimeout accepts; longer timeouts are clamped to it (~24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of runProcess. */
export interface ProcessOptions {
  /** Working directory, relative to context.workdir (default context.workdir). */
  workdir?: string;
  /** Variables set over context.env. */
  env?: Record<string, string>;
  /** Stops the process group after this many milliseconds (DVM_TIMEOUT). */
  timeoutMs?: number;
  /** Where output goes (default context.log). */
  log?: LogSink;
  /** How messages name the command (default the argv, shortened). */
  label?: string;
}

/** How a process that exited with status 0 ran. */
export type ProcessResult = {
  exitCode: number;
  durationMs: number;
  /** The log dropped output past its cap. */
  truncated: boolean;
};

// Working directories seen to exist. A directory removed later is noticed when spawn fails (see spawnFailure).
const knownDirs = new Set<string>();

function workdirMissing(dir: string, problem: string): DvmError {
  return new DvmError('DVM_WORKDIR_NOT_FOUND', `working directory ${dir} ${problem}`, {
    fix: 'Create the directory, or fix `workdir:` (a relative path is relative to the YAML file or the App path).',
    details: { origin: 'user', workdir: dir },
  });
}

function checkWorkdir(dir: string): void {
  if (knownDirs.has(dir)) return;
  let problem: string | undefined;
  try {
    const stat = statSync(dir, { throwIfNoEntry: false });
    if (!stat) problem = 'does not exist';
    else if (!stat.isDirectory()) problem = 'is not a directory';
  } catch (error) {
    problem = `cannot be read (${(error as NodeJS.ErrnoException).code})`;
  }
  if (problem) throw workdirMissing(dir, problem);
  if (knownDirs.size >= 1024) knownDirs.clear();
  knownDirs.add(dir);
}

/** The argv as one readable line (arguments with spaces or quotes single-quoted), shortened to 120 characters. */
export function displayArgv(argv: readonly string[]): string {
  const text = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

// Node keeps an exited child's object until a major GC (its native handle is only weakly dropped); without our
// listeners it no longer holds this run's closures, log and timers, so a 10,000-task run stays small.
const ignoreLateErrors = () => {};
function dropListeners(child: ChildProcess | RemoteChild): void {
  child.removeAllListeners();
  child.on('error', ignoreLateErrors);
  if ('stdout' in child) {
    child.stdout?.removeAllListeners('data');
    child.stderr?.removeAllListeners('data');
  }
}

/** The error a run stopped by an aborted signal fails with: the reason when it is a DvmError, else timeout/cancel. */
export function abortError(reason: unknown, label: string): DvmError {
  if (isDvmError(reason)) return reason;
  if ((reason as Error | undefined)?.name === 'TimeoutError') {
    return new DvmError('DVM_TIMEOUT', `${label} took longer than its timeout and was stopped`, {
      fix: 'Raise the timeout if the work needs longer, or look in the log for what hangs.',
      details: { origin: 'user' },
    });
  }
  return new DvmError('DVM_CANCELLED', `${label} was cancelled`, {
    fix: 'Run it again when you want it to complete.',
    details: { origin: 'user' },
  });
}

function timeoutError(ms: number, label: string, log: LogSink): DvmError {
  return new DvmError('DVM_TIMEOUT', `${label} did not finish within ${ms} ms and was stopped`, {
    fix: `Raise \`timeout:\` if it needs longer, or look in ${log.path ?? 'its log'} for what hangs.`,
    details: { origin: 'user', timeoutMs: ms },
  });
}

function spawnFailure(
  error: NodeJS.ErrnoException,
  program: string,
  cwd: string,
  env: Record<string, string>,
) {
  if (error.code === 'ELOGOPEN') {
    return new DvmError(
      'DVM_TASK_FAILED',
      `program "${program}" was not started: its log file could not be opened (${error.message})`,
      {
        fix: "Check that the run's log directory still exists and is writable (removed while the run went? disk full?), then run again.",
        details: { origin: 'system', program, errno: error.code },
      },
    );
  }
  if (error.code === 'ENOENT' || error.code === 'EACCES' || error.code === 'ENOTDIR') {
    // spawn reports a missing cwd like a missing program: tell them apart (the directory may have been removed).
    knownDirs.delete(cwd);
    try {
      checkWorkdir(cwd);
    } catch (workdirError) {
      return workdirError as DvmError;
    }
  }
  if (error.code === 'ENOENT') {
    let fix: string;
    if (program.includes('=')) {
      fix = 'Set variables with `env:` (a leading NAME=value is shell syntax), or use `shell:`.';
    } else if (program.includes('/')) {
      fix = `Check the path; a relative path is relative to the working directory ${cwd}.`;
    } else {
      fix = `Check the spelling, and that it is installed and on the PATH of the task (${env.PATH ?? 'PATH is not set'}).`;
    }
    return new DvmError('DVM_EXEC_NOT_FOUND', `program "${program}" was not found`, {
      fix,
      details: { origin: 'user', program },
    });
  }
  if (error.code === 'EACCES') {
    return new DvmError('DVM_EXEC_NOT_FOUND', `program "${program}" cannot be run: permission denied`, {
      fix: `Make it executable (chmod +x ${program}), or run it through its interpreter (like \`sh ${program}\`).`,
      details: { origin: 'user', program },
    });
  }
  if (error.code === 'E2BIG') {
    return new DvmError(
      'DVM_ACTION_INPUT_INVALID',
      `program "${program}" cannot be started: its arguments and environment are too large (E2BIG)`,
      {
        fix: 'Linux takes at most 128 KiB per argument or variable and about 2 MiB in all: pass large data in a file (a result file, or inputs and outputs) instead.',
        details: { origin: 'user', program, errno: error.code },
      },
    );
  }
  if (error.code === 'ENAMETOOLONG') {
    return new DvmError(
      'DVM_EXEC_NOT_FOUND',
      `program "${program.length > 200 ? `${program.slice(0, 200)}…` : program}" cannot be started: its path is too long`,
      {
        fix: 'Use a shorter path (at most 4,096 bytes, 255 per name), or put the program on the PATH.',
        details: { origin: 'user', errno: error.code },
      },
    );
  }
  return new DvmError('DVM_TASK_FAILED', `program "${program}" could not be started: ${error.message}`, {
    fix: 'The machine refused to start a process (out of processes, memory or file descriptors?); try again.',
    details: { origin: 'system', program, errno: error.code },
  });
}

/**
 * Runs argv without a shell in its own process group (`detached`), streaming stdout and stderr into the log.
 * Resolves when it exits with status 0; otherwise rejects with DVM_TASK_FAILED ({exitCode} or {signal}),
 * DVM_EXEC_NOT_FOUND or DVM_WORKDIR_NOT_FOUND. On abort of context.signal or past timeoutMs it sends SIGTERM to
 * the whole group, SIGKILL after KILL_GRACE_MS, waits for the group to go, then rejects with DVM_TIMEOUT or
 * DVM_CANCELLED (or the signal's reason when that is a DvmError).
 */
export async function runProcess(
  argv: readonly string[],
  context: ActionContext,
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  const log = options.log ?? context.log;
  const label = () => options.label ?? `command ${displayArgv(argv)}`;
  if (argv.length === 0 || argv[0] === '') {
    throw new DvmError('DVM_ACTION_INPUT_INVALID', 'the command is empty', {
      fix: 'Give the program to run (and its arguments).',
      details: { origin: 'user' },
    });
  }
  const { signal } = context;
  if (signal.aborted) throw abortError(signal.reason, label());
  const cwd = options.workdir === undefined ? context.workdir : resolvePath(context.workdir, options.workdir);
  checkWorkdir(cwd);
  const env = options.env ? { ...context.env, ...options.env } : context.env;
  const started = performance.now();

  return new Promise<ProcessResult>((resolve, reject) => {
    let child: ChildProcess | RemoteChild;
    // A log file takes the child's output on its own descriptor: no pipes to create, read and copy.
    const direct = log.attachChild?.();
    // With a log file, while commands start in quick succession, a small helper process starts the command when
    // one is ready (see spawn-pool.ts); a command that starts alone is started here, a hop sooner.
    const remote =
      direct && log.path && startingInSuccession()
        ? sharedSpawnPool()?.spawn({ argv, cwd, env, logPath: log.path })
        : undefined;
    try {
      const stdio = direct
        ? (['ignore', direct.fd, direct.fd] as const)
        : (['ignore', 'pipe', 'pipe'] as const);
      child = remote ?? spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: [...stdio] });
    } catch (error) {
      direct?.release();
      // Node refuses some commands before starting anything: a NUL byte (a refusal), or E2BIG/ENAMETOOLONG.
      const thrown = error as NodeJS.ErrnoException;
      reject(isRefusal(thrown) ? refusal(thrown, label()) : spawnFailure(thrown, argv[0], cwd, env));
      return;
    }
    let pid = child.pid;
    if (pid !== undefined) context.onSpawn?.(pid);
    let settled = false;
    let stopping: DvmError | undefined;
    let killSentAt: number | undefined;
    let groupPoll: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;

    const cleanup = () => {
      unwatch();
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(closeTimer);
      clearTimeout(groupPoll);
    };

    const stop = (error: DvmError) => {
      if (settled || stopping) return;
      stopping = error;
      signalGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        killSentAt = performance.now();
        signalGroup(pid, 'SIGKILL');
      }, KILL_GRACE_MS);
    };

    const finish = (code: number | null, exitSignal: NodeJS.Signals | null) => {
      if (settled) return;
      const waited = killSentAt === undefined ? 0 : performance.now() - killSentAt;
      if (stopping && waited < KILL_GRACE_MS && groupRuns(pid)) {
        // The leader is gone but others of its group are not: wait for them to go (SIGTERM, then SIGKILL); a
        // process that survives SIGKILL (uninterruptible I/O) gets another grace, then is left behind.
        groupPoll = setTimeout(() => finish(code, exitSignal), GROUP_POLL_MS);
        return;
      }
      settled = true;
      cleanup();
      direct?.release();
      dropListeners(child);
      // Background processes it started (`server &`) keep running until the run ends; the run stops them then.
      if (!stopping && pid !== undefined && context.leftovers && groupExists(pid)) {
        if (direct) log.keepFile?.(); // they still write into it, even when the task itself printed nothing
        context.leftovers.adopt({
          pgid: pid,
          label: label(),
          ...(log.path ? { logPath: log.path } : {}),
          ...(direct && log.maxBytes !== undefined ? { maxBytes: log.maxBytes } : {}),
        });
      }
      if (stopping) {
        reject(stopping);
      } else if (code === 0) {
        const result = {
          exitCode: 0,
          durationMs: Math.round(performance.now() - started),
          truncated: (log as { truncated?: boolean }).truncated === true,
        };
        if (context.onSucceeded) {
          // The next task starts (in this turn's microtasks) before this one's result is recorded.
          context.onSucceeded();
          setImmediate(() => resolve(result));
        } else resolve(result);
      } else if (exitSignal) {
        reject(
          new DvmError('DVM_TASK_FAILED', `${label()} was killed by signal ${exitSignal}`, {
            fix: `See ${log.path ?? 'its log'} for what it printed before it died.`,
            details: { signal: exitSignal, origin: 'user' },
          }),
        );
      } else {
        reject(
          new DvmError('DVM_TASK_FAILED', `${label()} exited with code ${code}`, {
            fix: `See ${log.path ?? 'its log'} for what it printed.`,
            details: { exitCode: code, origin: 'user' },
          }),
        );
      }
    };

    const unwatch = watchAbort(signal, () => stop(abortError(signal.reason, label())));
    if (options.timeoutMs !== undefined) {
      const ms = options.timeoutMs;
      timeoutTimer = setTimeout(() => stop(timeoutError(ms, label(), log)), Math.min(ms, MAX_TIMER_MS));
    }

    if (remote) {
      remote.on('spawn', (remotePid: number) => {
        pid = remotePid;
        context.onSpawn?.(remotePid);
        if (stopping) signalGroup(remotePid, 'SIGTERM'); // stopped before its pid was known
      });
      remote.on('exit', finish);
      remote.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        cleanup();
        direct?.release();
        remote.removeAllListeners();
        if (pid === undefined) {
          reject(isRefusal(error) ? refusal(error, label()) : spawnFailure(error, argv[0], cwd, env));
          return;
        }
        // Its helper died while it ran: nobody can tell when it ends, so it is stopped.
        signalGroup(pid, 'SIGKILL');
        reject(
          new DvmError('DVM_TASK_FAILED', `${label()} was stopped: ${error.message}`, {
            fix: 'Run it again; if this repeats, set DVM_SPAWN_HELPERS=0 to start commands from dvm itself.',
            details: { origin: 'system' },
          }),
        );
      });
      return;
    }
    const local = child as ChildProcess;
    local.stdout?.on('data', (chunk: Buffer) => log.write('stdout', chunk));
    local.stderr?.on('data', (chunk: Buffer) => log.write('stderr', chunk));
    local.on('error', (error: NodeJS.ErrnoException) => {
      if (settled || local.pid !== undefined) return;
      settled = true;
      cleanup();
      direct?.release();
      dropListeners(local);
      local.stdout?.destroy();
      local.stderr?.destroy();
      reject(spawnFailure(error, argv[0], cwd, env));
    });
    local.on('exit', () => {
      // A background child that keeps the pipes open must not hold the task: stop reading after a grace.
      closeTimer = setTimeout(() => {
        local.stdout?.destroy();
        local.stderr?.destroy();
      }, CLOSE_GRACE_MS);
    });
    local.on('close', finish);
  });
}

// Node refuses some arguments before starting anything: a NUL byte in an argument, an invalid env value.
function isRefusal(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ERR_INVALID_ARG_VALUE' || error.code === 'ERR_INVALID_ARG_TYPE';
}

function refusal(error: Error, label: string): DvmError {
  return new DvmError('DVM_ACTION_INPUT_INVALID', `${label} cannot be run: ${error.message}`, {
    fix: 'Remove NUL characters from the arguments and environment.',
    details: { origin: 'user' },
  });
}

let pool: SpawnPool | undefined;
// Helpers serve bursts (a fan-out of many quick tasks): a command that starts when BURST_STARTS others started
// within the last BURST_WINDOW_MS. A rate, not a gap between two starts: on a loaded machine the starts of a burst
// spread out, but still come many to the window. A few tasks now and then are not worth a helper.
const BURST_STARTS = 8;
const BURST_WINDOW_MS = 200;
const recentStarts = new Float64Array(BURST_STARTS).fill(Number.NEGATIVE_INFINITY);
let nextStart = 0;

function startingInSuccession(): boolean {
  if (process.env.DVM_SPAWN_HELPERS === 'always') return true;
  const now = performance.now();
  // The oldest of the last BURST_STARTS starts is the one this start replaces in the ring.
  const oldest = recentStarts[nextStart];
  recentStarts[nextStart] = now;
  nextStart = (nextStart + 1) % BURST_STARTS;
  return now - oldest < BURST_WINDOW_MS;
}

/**
 * The helpers that start commands with a log file in bursts, unless DVM_SPAWN_HELPERS=0 (or on Windows: no fork to
 * save); DVM_SPAWN_HELPERS=always sends every such command through them (tests).
 */
export function sharedSpawnPool(): SpawnPool | undefined {
  if (process.platform === 'win32' || process.env.DVM_SPAWN_HELPERS === '0') return undefined;
  pool ??= new SpawnPool();
  return pool;
}
