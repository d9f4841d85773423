import { describeStop, LEFTOVER_GRACE_MS, type StoppedGroup } from '../../actions/leftover-processes.ts';
import { groupCarries, groupRuns, signalGroup } from '../../actions/process-group.ts';
import { RUN_ID_VARIABLE } from '../../engine/task-runner.ts';

const POLL_MS = 50;

// Blocks this thread for `ms` (the reaper is synchronous, and runs only when a dead run left processes).
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitGone(groups: number[], ms: number): number[] {
  const deadline = performance.now() + ms;
  let running = groups.filter((g) => groupRuns(g));
  while (running.length > 0 && performance.now() < deadline) {
    pause(POLL_MS);
    running = running.filter((g) => groupRuns(g));
  }
  return running;
}

/**
 * Stops the process groups that tasks of a run left running when the dvm running it died (SIGKILL, crash): each
 * group whose processes carry the run's DVM_RUN_ID gets SIGTERM, then SIGKILL after the grace, so a resumed run
 * never races the old one's processes. A group without the mark (its number now belongs to someone else, or this
 * is not Linux, where it cannot be checked) is left alone. Returns how each stopped group went, by group id.
 */
export function stopOrphanedTasks(
  runId: string,
  pgids: readonly number[],
  graceMs = LEFTOVER_GRACE_MS,
): Map<number, string> {
  const ours = [...new Set(pgids)].filter((pgid) => groupCarries(pgid, RUN_ID_VARIABLE, runId));
  const outcomes = new Map<number, StoppedGroup['outcome']>();
  if (ours.length === 0) return new Map();
  for (const pgid of ours) signalGroup(pgid, 'SIGTERM');
  const stubborn = waitGone(ours, graceMs);
  for (const pgid of ours) if (!stubborn.includes(pgid)) outcomes.set(pgid, 'SIGTERM');
  if (stubborn.length > 0) {
    for (const pgid of stubborn) signalGroup(pgid, 'SIGKILL');
    // SIGKILL takes effect at once (but in uninterruptible I/O): a short look is enough to say whether it did.
    const survivors = waitGone(stubborn, Math.min(graceMs, 500));
    for (const pgid of stubborn) outcomes.set(pgid, survivors.includes(pgid) ? 'survived' : 'SIGKILL');
  }
  return new Map([...outcomes].map(([pgid, outcome]) => [pgid, describeStop(outcome)]));
}
