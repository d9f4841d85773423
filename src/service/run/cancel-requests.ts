import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DvmError } from '../../errors/dvm-error.ts';

/** Where `dvm cancel run ID` leaves its request for the process that owns the run. */
export function cancelRequestPath(home: string, runId: string): string {
  return join(home, 'runs', runId, 'cancel-requested');
}

/** The signals `dvm cancel run ID` requests abort in the process that owns the run. */
export interface CancelRequests {
  /** Aborted by the first request: the run is cancelled (its finally tasks still run). */
  signal: AbortSignal;
  /** Aborted by the second: finally tasks are stopped too. */
  finalSignal: AbortSignal;
  /** Stops polling. */
  close(): void;
}

/**
 * Polls for the request file `dvm cancel run ID` leaves (every 250 ms) and takes it away once acted on: the first
 * request cancels the run, a second one (while its finally tasks run) stops those too.
 */
export function watchCancelRequests(home: string, runId: string): CancelRequests {
  const file = cancelRequestPath(home, runId);
  const cancel = new AbortController();
  const stop = new AbortController();
  const poll = setInterval(() => {
    if (!existsSync(file)) return;
    rmSync(file, { force: true });
    if (!cancel.signal.aborted) {
      cancel.abort(
        new DvmError('DVM_CANCELLED', `run ${runId} was cancelled (dvm cancel)`, {
          fix: 'Run it again, or resume it: dvm run --resume ID.',
        }),
      );
    } else {
      stop.abort(
        new DvmError(
          'DVM_CANCELLED',
          `run ${runId} was cancelled again (dvm cancel): its finally tasks stopped`,
          {
            fix: 'Run it again, or resume it: dvm run --resume ID.',
          },
        ),
      );
      clearInterval(poll);
    }
  }, 250);
  poll.unref();
  return { signal: cancel.signal, finalSignal: stop.signal, close: () => clearInterval(poll) };
}
