import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Sends `signal` to every process of the group; a group that is already gone is fine. */
export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** True when any process of the group exists, zombies included (one kill(2), cheap enough for every task). */
export function groupExists(pgid: number): boolean {
  // The usual answer is ESRCH, thrown as an error: without a stack trace to capture it costs a tenth.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

// Running processes (not zombies) with their process group, from /proc (Linux only; a scan, for rare paths).
function* runningProcesses(): Generator<{ pid: string; pgrp: number }> {
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state !== 'Z' && state !== 'X') yield { pid: entry, pgrp: Number(pgrp) };
  }
}

// The pids of the group's running processes.
function* runningMembers(pgid: number): Generator<string> {
  for (const { pid, pgrp } of runningProcesses()) if (pgrp === pgid) yield pid;
}

// True when the process started with `name=value` in its environment (false when it is gone or not ours).
function carries(pid: string, name: string, value: string): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  const entry = Buffer.from(`${name}=${value}\0`);
  return environ.subarray(0, entry.length).equals(entry) || environ.includes(`\0${name}=${value}\0`);
}

/**
 * True when a process of the group is still running. kill(-pgid, 0) also counts zombies, which a container whose
 * PID 1 does not reap keeps forever; on Linux /proc tells them apart.
 */
export function groupRuns(pgid: number | undefined): boolean {
  if (pgid === undefined || !groupExists(pgid)) return false;
  if (process.platform !== 'linux') return true;
  try {
    for (const _ of runningMembers(pgid)) return true;
    return false;
  } catch {
    return true;
  }
}

/**
 * The process groups of every running process that has `name=value` in its environment (Linux: a scan of /proc;
 * elsewhere none), this process's own group left out: a dvm started by one of those processes never stops itself.
 */
export function groupsCarrying(name: string, value: string): number[] {
  if (process.platform !== 'linux') return [];
  const groups = new Set<number>();
  let own: number | undefined;
  try {
    for (const { pid, pgrp } of runningProcesses()) {
      if (Number(pid) === process.pid) own = pgrp;
      else if (!groups.has(pgrp) && carries(pid, name, value)) groups.add(pgrp);
    }
  } catch {
    return [];
  }
  if (own !== undefined) groups.delete(own);
  return [...groups];
}

/**
 * True when a process now has the pid `pgid` — for a group whose leader we already reaped, that means the group
 * died and the number went to someone else (Linux hands out no pid that is the id of a group with members).
 */
export function pidInUse(pgid: number): boolean {
  if (process.platform === 'linux') return existsSync(`/proc/${pgid}`);
  try {
    process.kill(pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long a stopped process group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;
// How often stopped groups are polled for their end.
const STOP_POLL_MS = 50;

/** How a group's stop went: it ended on SIGTERM, was killed with SIGKILL after the grace, or even that failed. */
export type StopOutcome = 'SIGTERM' | 'SIGKILL' | 'survived';

/** A stop's outcome, in words (for logs and run records). */
export function describeStop(outcome: StopOutcome): string {
  if (outcome === 'SIGTERM') return 'they ended on SIGTERM';
  if (outcome === 'SIGKILL') return 'killed with SIGKILL after SIGTERM';
  return 'they survived SIGKILL';
}

// Polls until every group has no running process or `ms` passed; resolves with those still running.
async function waitGone(pgids: number[], ms: number): Promise<number[]> {
  const deadline = performance.now() + ms;
  let running = pgids.filter((g) => groupRuns(g));
  while (running.length > 0 && performance.now() < deadline) {
    await sleep(STOP_POLL_MS);
    running = running.filter((g) => groupRuns(g));
  }
  return running;
}

/**
 * Stops process groups: SIGTERM to all, SIGKILL to those still running after `graceMs`, then a short look (SIGKILL
 * takes effect at once, but in uninterruptible I/O) to say whether it worked. Resolves with each group's outcome.
 */
export async function stopGroups(
  pgids: readonly number[],
  graceMs = KILL_GRACE_MS,
): Promise<Map<number, StopOutcome>> {
  const outcomes = new Map<number, StopOutcome>();
  const groups = [...new Set(pgids)];
  for (const pgid of groups) signalGroup(pgid, 'SIGTERM');
  const stubborn = await waitGone(groups, graceMs);
  for (const pgid of groups) if (!stubborn.includes(pgid)) outcomes.set(pgid, 'SIGTERM');
  if (stubborn.length === 0) return outcomes;
  for (const pgid of stubborn) signalGroup(pgid, 'SIGKILL');
  const survivors = await waitGone(stubborn, Math.min(graceMs, 500));
  for (const pgid of stubborn) outcomes.set(pgid, survivors.includes(pgid) ? 'survived' : 'SIGKILL');
  return outcomes;
}
