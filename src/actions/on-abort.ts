// One 'abort' listener per signal, however many processes wait on it: a run's signal is shared by all its tasks,
// and EventTarget's addEventListener/removeEventListener cost ~10 µs each, per task.
const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `onAbort` once when `signal` aborts; returns the function that stops watching (call it when done). */
export function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  if (signal.aborted) {
    let watching = true;
    queueMicrotask(() => watching && onAbort());
    return () => {
      watching = false;
    };
  }
  let set = watchers.get(signal);
  if (!set) {
    const created = new Set<() => void>();
    set = created;
    watchers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        watchers.delete(signal);
        for (const watcher of created) watcher();
        created.clear();
      },
      { once: true },
    );
  }
  const watching = set;
  watching.add(onAbort);
  return () => {
    watching.delete(onAbort);
  };
}
