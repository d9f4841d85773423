import {
  describeStop,
  groupsCarrying,
  KILL_GRACE_MS,
  signalGroup,
  stopGroups,
} from '../../actions/process-group.ts';
import { RUN_ID_VARIABLE } from '../../engine/task-runner.ts';

/**
 * Stops the process groups that tasks of a run left running when the dvm running it died (SIGKILL, crash): every
 * group with a process that carries the run's DVM_RUN_ID gets SIGTERM, then SIGKILL after the grace, so a resumed
 * run never races the old one's processes. They are found by that mark (a scan of /proc), so a task whose process
 * group was not recorded yet is stopped too, and a recorded group whose number now belongs to someone else is
 * left alone. Not on other systems, where it cannot be checked. Resolves with how each stopped group went, by id.
 */
export async function stopOrphanedTasks(
  runId: string,
  graceMs = KILL_GRACE_MS,
): Promise<Map<number, string>> {
  const ours = groupsCarrying(RUN_ID_VARIABLE, runId);
  if (ours.length === 0) return new Map();
  const outcomes = await stopGroups(ours, graceMs);
  return new Map([...outcomes].map(([pgid, outcome]) => [pgid, describeStop(outcome)]));
}

/**
 * Kills (SIGKILL, at once) every process group that carries the run's DVM_RUN_ID: what a dvm told to stop now (a
 * second Ctrl-C) does before it exits, so no task outlives it. Linux only, as stopOrphanedTasks. Returns the groups.
 */
export function killRunProcesses(runId: string): number[] {
  const ours = groupsCarrying(RUN_ID_VARIABLE, runId);
  for (const pgid of ours) signalGroup(pgid, 'SIGKILL');
  return ours;
}
