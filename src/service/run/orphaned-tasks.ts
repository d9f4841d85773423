import { describeStop, groupCarries, KILL_GRACE_MS, stopGroups } from '../../actions/process-group.ts';
import { RUN_ID_VARIABLE } from '../../engine/task-runner.ts';

/**
 * Stops the process groups that tasks of a run left running when the dvm running it died (SIGKILL, crash): each
 * group whose processes carry the run's DVM_RUN_ID gets SIGTERM, then SIGKILL after the grace, so a resumed run
 * never races the old one's processes. A group without the mark (its number now belongs to someone else, or this
 * is not Linux, where it cannot be checked) is left alone. Resolves with how each stopped group went, by group id.
 */
export async function stopOrphanedTasks(
  runId: string,
  pgids: readonly number[],
  graceMs = KILL_GRACE_MS,
): Promise<Map<number, string>> {
  const ours = [...new Set(pgids)].filter((pgid) => groupCarries(pgid, RUN_ID_VARIABLE, runId));
  if (ours.length === 0) return new Map();
  const outcomes = await stopGroups(ours, graceMs);
  return new Map([...outcomes].map(([pgid, outcome]) => [pgid, describeStop(outcome)]));
}
