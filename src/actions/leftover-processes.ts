import {
  appendFileSync,
  closeSync,
  fstatSync,
  openSync,
  readSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { truncationNote } from './log-file.ts';
import {
  describeStop,
  groupRuns,
  KILL_GRACE_MS,
  pidInUse,
  type StopOutcome,
  stopGroups,
} from './process-group.ts';

// How often lingering groups' logs are checked against their cap.
const CAP_CHECK_MS = 1000;

/** A process group whose main process (the task's command) exited while others of the group kept running. */
export interface LeftoverGroup {
  /** The group's id: the pid its main process had. */
  pgid: number;
  /** How messages name the command that left it. */
  label: string;
  /** The log file the group still writes into, if any; kept under `maxBytes` until the group is stopped. */
  logPath?: string;
  maxBytes?: number;
}

/** What stopAll did to one group. */
export interface StoppedGroup extends LeftoverGroup {
  outcome: StopOutcome;
}

/**
 * The background processes that tasks of one run left behind. A task's command runs in its own process group;
 * when the command exits and other processes of its group still run (`server &`), the group is adopted here:
 * its log stays capped while it runs, and `stopAll` ends it when the run ends (SIGTERM, then SIGKILL), as GitHub
 * Actions cleans up orphan processes at the end of a job. A process that must outlive the run starts its own
 * session (`setsid`), or is a Dependency.
 */
export class LeftoverProcesses {
  readonly #groups = new Map<number, LeftoverGroup & { cutSize?: number }>();
  #capTimer: NodeJS.Timeout | undefined;

  /** The groups adopted and not yet stopped. */
  get groups(): LeftoverGroup[] {
    return [...this.#groups.values()].map(({ pgid, label, logPath, maxBytes }) => ({
      pgid,
      label,
      ...(logPath ? { logPath } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    }));
  }

  /** Adopts the group of a command that just exited while others of its group still run (see groupExists). */
  adopt(group: LeftoverGroup): void {
    this.#groups.set(group.pgid, { ...group });
    if (group.logPath && group.maxBytes !== undefined && !this.#capTimer) {
      this.#capTimer = setInterval(() => this.#capLogs(), CAP_CHECK_MS);
      this.#capTimer.unref();
    }
  }

  // Cuts what lingering processes wrote past their log's cap (checked every CAP_CHECK_MS while they run).
  #capLogs(): void {
    for (const group of this.#groups.values()) {
      if (!group.logPath || group.maxBytes === undefined) continue;
      const size = sizeOf(group.logPath);
      if (size === undefined || size <= group.maxBytes || size === group.cutSize) continue;
      group.cutSize = cutAtCap(group.logPath, group.maxBytes);
    }
  }

  /**
   * Stops every adopted group (stopGroups: SIGTERM, then SIGKILL after `graceMs`). A group
   * whose id now belongs to another process (ours ended and the number was reused) is dropped untouched.
   * Resolves with the groups it signalled; each log gets a line saying so.
   */
  async stopAll(graceMs = KILL_GRACE_MS): Promise<StoppedGroup[]> {
    clearInterval(this.#capTimer);
    this.#capTimer = undefined;
    const pending = [...this.#groups.values()].filter((g) => !pidInUse(g.pgid) && groupRuns(g.pgid));
    this.#groups.clear();
    if (pending.length === 0) return [];
    const outcomes = await stopGroups(
      pending.map((g) => g.pgid),
      graceMs,
    );
    const stopped: StoppedGroup[] = pending.map((g) => ({
      ...strip(g),
      outcome: outcomes.get(g.pgid) ?? 'SIGTERM',
    }));
    for (const g of pending) finalCap(g);
    for (const s of stopped) {
      if (!s.logPath) continue;
      try {
        appendFileSync(
          s.logPath,
          `[dvm: the run ended; stopped the background processes this task left running (${describeStop(s.outcome)})]\n`,
        );
      } catch {
        // No log to note it in.
      }
    }
    return stopped;
  }
}

function strip(g: LeftoverGroup & { cutSize?: number }): LeftoverGroup {
  const { cutSize: _cut, ...group } = g;
  return group;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined; // removed: nothing to cap
  }
}

// Cuts the file at `maxBytes` and writes the truncation note right there (a positional write: a process still
// appending may add more after it, which the next check cuts). Returns the size it left, if it could.
function cutAtCap(path: string, maxBytes: number): number | undefined {
  let fd: number | undefined;
  try {
    truncateSync(path, maxBytes);
    fd = openSync(path, 'r+');
    writeSync(fd, truncationNote(maxBytes), maxBytes);
    return fstatSync(fd).size;
  } catch {
    return undefined; // gone or unwritable: the processes are stopped at the run's end regardless
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// The file's bytes from `offset` on (a few: the note), as text.
function tailOf(path: string, offset: number): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(Math.max(0, fstatSync(fd).size - offset));
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString();
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// The log of a stopped group, cut at its cap (ending with the note) now that nothing writes into it.
function finalCap(g: LeftoverGroup): void {
  if (!g.logPath || g.maxBytes === undefined) return;
  const size = sizeOf(g.logPath);
  if (size === undefined || size <= g.maxBytes) return;
  const note = truncationNote(g.maxBytes);
  if (size === g.maxBytes + Buffer.byteLength(note) && tailOf(g.logPath, g.maxBytes) === note) return;
  cutAtCap(g.logPath, g.maxBytes);
}
