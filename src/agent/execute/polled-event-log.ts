import type { EventLog, ExecutionEvent } from './executions.ts';

/** How often the events of an execution another process runs are read again while someone follows them. */
export const POLL_MS = 300;

/** What one read of the store gives: the events after the last one held, and whether the execution has ended. */
export type EventPoll = (lastId: number) => { events: ExecutionEvent[]; ended: boolean };

/**
 * The event log of an execution that another process runs (a `dvm action run`, another agent): it starts with what is
 * stored and, while anyone watches, reads the store again every POLL_MS — new events, then the end — so a stream of
 * it lasts until the execution ends as one of this process's own does. `onIdle` is told when no one watches any more.
 */
export function polledEventLog(initial: ExecutionEvent[], poll: EventPoll, onIdle: () => void): EventLog {
  const events = [...initial];
  let ended = false;
  const watchers = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  const stopPolling = () => {
    clearInterval(timer);
    timer = undefined;
    onIdle();
  };
  const read = () => {
    let answer: ReturnType<EventPoll>;
    try {
      answer = poll(events.at(-1)?.id ?? 0);
    } catch {
      return; // the store is busy or gone for a moment: the next read tries again
    }
    events.push(...answer.events);
    ended = answer.ended;
    if (ended) stopPolling();
    if (answer.events.length > 0 || ended) for (const watcher of [...watchers]) watcher();
  };
  return {
    events,
    ended: () => ended,
    watch(onChange) {
      if (ended) return () => {};
      watchers.add(onChange);
      timer ??= setInterval(read, POLL_MS);
      return () => {
        watchers.delete(onChange);
        if (watchers.size === 0 && timer) stopPolling();
      };
    },
  };
}
