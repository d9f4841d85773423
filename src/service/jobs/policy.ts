/** How a job treats a trigger that fires while one of its runs is active (Job `spec.concurrency`). */
export type ConcurrencyPolicy = 'skip' | 'queue' | 'cancel-previous';

const POLICIES: readonly ConcurrencyPolicy[] = ['skip', 'queue', 'cancel-previous'];

/** The policy of a Job that names none. */
export const DEFAULT_CONCURRENCY: ConcurrencyPolicy = 'queue';

/** The policy a Job's `spec.concurrency` names, or the default. */
export function concurrencyOf(value: unknown): ConcurrencyPolicy {
  return POLICIES.includes(value as ConcurrencyPolicy) ? (value as ConcurrencyPolicy) : DEFAULT_CONCURRENCY;
}

/** What the scheduler knows about one job's runs: is one active, is it being cancelled, which trigger waits. */
export interface JobRunState<T> {
  active: boolean;
  cancelling: boolean;
  queued: T | undefined;
}

/**
 * What to do with a trigger: `start` a run now (none is active), `skip` it, `queue` it behind the active run,
 * `coalesce` it with the trigger already waiting (the newer one replaces it), or `cancel` the active run and
 * start this one when the active run has ended.
 */
export type TriggerDecision = 'start' | 'skip' | 'queue' | 'coalesce' | 'cancel';

/** The state of a job with no run active and nothing waiting. */
export function idle<T>(): JobRunState<T> {
  return { active: false, cancelling: false, queued: undefined };
}

/** Decides what a trigger does under a policy, and the job's state after it. */
export function onTrigger<T>(
  policy: ConcurrencyPolicy,
  state: JobRunState<T>,
  trigger: T,
): { decision: TriggerDecision; state: JobRunState<T> } {
  if (!state.active)
    return { decision: 'start', state: { active: true, cancelling: false, queued: undefined } };
  switch (policy) {
    case 'skip':
      return { decision: 'skip', state };
    case 'queue':
      return {
        decision: state.queued === undefined ? 'queue' : 'coalesce',
        state: { ...state, queued: trigger },
      };
    case 'cancel-previous':
      return {
        decision: state.cancelling ? 'coalesce' : 'cancel',
        state: { active: true, cancelling: true, queued: trigger },
      };
  }
}

/** When a run of the job ends: the trigger to start next (if one waits) and the job's state after it. */
export function onRunEnded<T>(state: JobRunState<T>): { next: T | undefined; state: JobRunState<T> } {
  if (state.queued === undefined) return { next: undefined, state: idle() };
  return { next: state.queued, state: { active: true, cancelling: false, queued: undefined } };
}

/** Drops the waiting trigger (the job was deleted, or the scheduler is stopping); an active run stays active. */
export function dropQueued<T>(state: JobRunState<T>): JobRunState<T> {
  return { ...state, queued: undefined };
}
