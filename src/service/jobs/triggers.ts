import { Cron } from 'croner';
import { DvmError } from '../../errors/dvm-error.ts';

/** Cron patterns dvm accepts: five fields, or six with seconds first (croner's mode of that name). */
export const CRON_MODE = '5-or-6-parts';

/**
 * Why a cron pattern cannot be armed: it does not parse, or no date matches it (`0 0 30 2 *`, February 30),
 * so it would never fire; undefined when it is fine.
 */
export function cronProblem(pattern: string): string | undefined {
  let cron: Cron;
  try {
    cron = new Cron(pattern, { paused: true, mode: CRON_MODE });
  } catch (error) {
    return `schedule "${pattern}" does not parse: ${(error as Error).message}`;
  }
  if (!cron.nextRun()) return `schedule "${pattern}" never fires: no date matches it`;
  return undefined;
}

/** What a Job's `spec.trigger` arms, and the problems that keep part of it from being armed. */
export interface JobTriggers {
  /** No trigger arms the job: it runs only by hand (`dvm run job`). */
  manual: boolean;
  /** A cron pattern that parses. */
  schedule?: string;
  /** A commit on the git repository at the App's path fires the job. */
  commit: boolean;
  problems: DvmError[];
}

type Spec = Record<string, unknown>;

function invalid(message: string, fix: string): DvmError {
  return new DvmError('DVM_TRIGGER_INVALID', message, { fix, path: 'spec.trigger' });
}

/** Reads a Job's trigger: `manual: true` wins; otherwise a schedule, a commit event on app.path, or both. */
export function readTriggers(spec: Spec): JobTriggers {
  const trigger = (spec.trigger ?? {}) as Spec;
  const result: JobTriggers = { manual: false, commit: false, problems: [] };
  if (trigger.manual === true) return { ...result, manual: true };
  const { schedule, event, watch } = trigger;
  if (typeof schedule === 'string') {
    const problem = cronProblem(schedule);
    if (!problem) result.schedule = schedule;
    else {
      result.problems.push(
        new DvmError('DVM_CRON_INVALID', problem, {
          fix: 'Use five fields (minute hour day-of-month month day-of-week), or six with seconds first, that some date matches.',
          path: 'spec.trigger.schedule',
        }),
      );
    }
  }
  if (event !== undefined) {
    if (event !== 'commit') {
      result.problems.push(
        invalid(
          `event "${String(event)}" is not supported by dvm serve yet`,
          'Use `event: commit` (with `watch: app.path`), a `schedule`, or `manual: true`.',
        ),
      );
    } else if (watch !== undefined && watch !== 'app.path') {
      result.problems.push(
        invalid(
          `a commit trigger watches app.path, not "${String(watch)}"`,
          'Write `watch: app.path`; `spec.app` names the App whose repository is watched.',
        ),
      );
    } else result.commit = true;
  } else if (watch !== undefined) {
    result.problems.push(
      invalid(
        `watch "${String(watch)}" has no event`,
        'Add `event: commit` to run the job on each new commit.',
      ),
    );
  }
  result.manual = !result.schedule && !result.commit && result.problems.length === 0;
  return result;
}
