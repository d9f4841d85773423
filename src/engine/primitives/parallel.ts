import type { Step, StepResults } from './step.ts';

/** Options for {@link parallel}. */
export interface ParallelOptions {
  /** The most steps running at once (default: all of them). */
  concurrency?: number;
  /** Abort the other steps on the first failure and reject with it (default), or run all and aggregate. */
  failFast?: boolean;
}

/** Runs the steps concurrently, at most `concurrency` at once, with results in input order. */
export function parallel<const S extends readonly Step<unknown>[]>(
  steps: S,
  options: ParallelOptions = {},
): Step<StepResults<S>> {
  const { concurrency = Number.POSITIVE_INFINITY, failFast = true } = options;
  if (concurrency !== Number.POSITIVE_INFINITY && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError(`concurrency must be a positive integer or Infinity, got ${concurrency}`);
  }
  return (signal) =>
    (failFast ? runFailFast(steps, concurrency, signal) : runAll(steps, concurrency, signal)) as Promise<
      StepResults<S>
    >;
}

async function runFailFast(
  steps: readonly Step<unknown>[],
  concurrency: number,
  outer: AbortSignal,
): Promise<unknown[]> {
  outer.throwIfAborted();
  const count = steps.length;
  const results: unknown[] = new Array(count);
  // The siblings need a signal of their own to be stopped by a failure without aborting the caller's.
  const controller = new AbortController();
  const signal = controller.signal;
  const forwardAbort = () => controller.abort(outer.reason);
  outer.addEventListener('abort', forwardAbort, { once: true });
  let next = 0;
  let succeeded = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (next < count && !signal.aborted) {
      const index = next++;
      try {
        results[index] = await steps[index](signal);
        succeeded++;
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
          controller.abort(error);
        }
      }
    }
  };
  try {
    await runWorkers(worker, Math.min(concurrency, count));
  } finally {
    outer.removeEventListener('abort', forwardAbort);
  }
  if (succeeded === count) return results;
  throw outer.aborted ? outer.reason : firstError;
}

async function runAll(
  steps: readonly Step<unknown>[],
  concurrency: number,
  signal: AbortSignal,
): Promise<unknown[]> {
  signal.throwIfAborted();
  const count = steps.length;
  const results: unknown[] = new Array(count);
  const failures: { index: number; error: unknown }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && !signal.aborted) {
      const index = next++;
      try {
        results[index] = await steps[index](signal);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await runWorkers(worker, Math.min(concurrency, count));
  if (failures.length === 0 && next === count) return results;
  if (signal.aborted) throw signal.reason;
  failures.sort((a, b) => a.index - b.index);
  throw new AggregateError(
    failures.map((f) => f.error),
    `${failures.length} of ${count} parallel steps failed`,
  );
}

async function runWorkers(worker: () => Promise<void>, workers: number): Promise<void> {
  if (workers === 1) return worker();
  const running: Promise<void>[] = new Array(workers);
  for (let w = 0; w < workers; w++) running[w] = worker();
  await Promise.all(running);
}
