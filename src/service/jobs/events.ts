import type { DvmError } from '../../errors/dvm-error.ts';
import type { RunStatus } from '../../store/runs.ts';
import type { ConcurrencyPolicy } from './policy.ts';

/** A trigger that fired: what fired it, and for a commit trigger the new HEAD. */
export interface Fired {
  trigger: 'schedule' | 'commit';
  commit?: string;
}

/**
 * One thing the job scheduler did or saw; `job` names what it runs, by kind and place: a Job, like
 * `job lab/ci/nightly`, or a Task with spec.schedule, like `task lab/ci/backup`.
 */
export type SchedulerEvent =
  | {
      type: 'job.armed';
      job: string;
      concurrency: ConcurrencyPolicy;
      schedule?: string;
      /** The watched repository and its HEAD when the watch began (null: no commits yet). */
      repo?: string;
      head?: string | null;
    }
  | { type: 'job.manual'; job: string }
  | { type: 'job.disarmed'; job: string; reason: 'deleted' | 'changed' | 'unscheduled' }
  | { type: 'trigger.fired'; job: string; fired: Fired }
  | { type: 'trigger.skipped'; job: string; fired: Fired; activeRun?: string }
  | { type: 'trigger.queued'; job: string; fired: Fired; activeRun?: string; coalesced: boolean }
  | { type: 'run.cancelling'; job: string; run?: string; reason: string }
  | { type: 'run.started'; job: string; run: string; fired: Fired }
  | {
      type: 'run.finished';
      job: string;
      run: string;
      status: RunStatus;
      reason?: string;
      durationMs?: number;
    }
  | {
      /** A run whose dvm process died (a killed serve, say), found at start: its processes were stopped. */
      type: 'run.interrupted';
      run: string;
      /** What it ran, like `job lab/ci/deploy`. */
      what: string;
      pid?: number;
    }
  | { type: 'error'; job?: string; error: DvmError };

/** Receives scheduler events. */
export type SchedulerListener = (event: SchedulerEvent) => void;
