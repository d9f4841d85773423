import type { Step } from './step.ts';

/**
 * What {@link observe} reports: `at` is wall-clock ms since the epoch, `durationMs` is monotonic; the `error` of a
 * step that failed after its signal aborted is the signal's reason.
 */
export type StepEvent =
  | { type: 'step.started'; name: string; at: number }
  | { type: 'step.succeeded'; name: string; at: number; durationMs: number }
  | { type: 'step.failed'; name: string; at: number; durationMs: number; error: unknown };

/** Options for {@link observe}. */
export interface ObserveOptions {
  /** Names the step in its events. */
  name: string;
  /** Receives the events; what it throws propagates as if the step had thrown it. */
  emit: (event: StepEvent) => void;
}

/** Reports a step's start and its success or failure (with duration) through `emit`. */
export function observe<T>(step: Step<T>, options: ObserveOptions): Step<T> {
  const { name, emit } = options;
  return async (signal) => {
    signal.throwIfAborted();
    emit({ type: 'step.started', name, at: Date.now() });
    const start = performance.now();
    let value: T;
    try {
      value = await step(signal);
    } catch (thrown) {
      // A step stopped by the abort may throw anything; the abort is what happened to it.
      const error = signal.aborted ? signal.reason : thrown;
      emit({ type: 'step.failed', name, at: Date.now(), durationMs: performance.now() - start, error });
      throw error;
    }
    emit({ type: 'step.succeeded', name, at: Date.now(), durationMs: performance.now() - start });
    return value;
  };
}
