/** How a DAG node ended, as far as scheduling cares. */
export type NodeOutcome = 'succeeded' | 'failed' | 'tolerated' | 'skipped';

/** A node to schedule: its name and the names it depends on. */
export interface DagTask {
  name: string;
  dependsOn: readonly string[];
}

/** Hooks the runner calls; `run` starts a node and resolves with its outcome. */
export interface DagHooks<T extends DagTask> {
  /**
   * Starts a node and resolves with its outcome. A node may call `free` once its heavy part is over (its command
   * exited): it then stops counting against `limit`, so the next ready node starts while it finishes up.
   */
  run(node: T, free: () => void): Promise<NodeOutcome>;
  /** Called for a node that will never run, with why: a dependency failed, fail-fast, or cancellation. */
  skip(node: T, reason: 'DependencyFailed' | 'FailFast' | 'Cancelled'): void;
  /** True when no new node may start (the run was cancelled). */
  stopped(): boolean;
  /** Stop starting new nodes after the first failure (default true). */
  failFast?: boolean;
  /** Most nodes running at once (default unlimited): ready nodes wait in the queue, not as started promises. */
  limit?: number;
}

/**
 * Runs a DAG with a ready queue (Kahn's algorithm, incremental): a node starts as soon as all it depends on
 * succeeded; nothing rescans the graph. Dependents of a failed node are skipped; with fail-fast, so is
 * everything not yet started. Resolves with every node's outcome once all running nodes settle.
 */
export async function runDag<T extends DagTask>(
  nodes: readonly T[],
  hooks: DagHooks<T>,
): Promise<Map<string, NodeOutcome>> {
  const failFast = hooks.failFast ?? true;
  const outcomes = new Map<string, NodeOutcome>();
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, T[]>();
  // A queue with a read index: shift() on a 10,000-entry array is quadratic.
  const ready: T[] = [];
  let head = 0;
  const limit = hooks.limit ?? Number.POSITIVE_INFINITY;
  for (const node of nodes) {
    const deps = node.dependsOn.filter((d) => byName.has(d));
    waiting.set(node.name, deps.length);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(node);
      dependents.set(d, list);
    }
    if (deps.length === 0) ready.push(node);
  }
  let failed = false;
  // Started and not finished; of those, the ones that still count against `limit` (not freed).
  let unfinished = 0;
  let running = 0;
  let wake: (() => void) | undefined;

  const skipDownstream = (name: string) => {
    for (const child of dependents.get(name) ?? []) {
      if (outcomes.has(child.name)) continue;
      outcomes.set(child.name, 'skipped');
      hooks.skip(child, 'DependencyFailed');
      skipDownstream(child.name);
    }
  };
  const finish = (node: T, outcome: NodeOutcome, freed: boolean) => {
    outcomes.set(node.name, outcome);
    unfinished--;
    if (!freed) running--;
    if (outcome === 'failed') {
      failed = true;
      skipDownstream(node.name);
    } else {
      for (const child of dependents.get(node.name) ?? []) {
        const left = (waiting.get(child.name) ?? 1) - 1;
        waiting.set(child.name, left);
        if (left === 0 && !outcomes.has(child.name)) ready.push(child);
      }
    }
    wake?.();
  };

  for (;;) {
    while (head < ready.length && running < limit && !(failFast && failed) && !hooks.stopped()) {
      const node = ready[head++];
      unfinished++;
      running++;
      let freed = false;
      const free = () => {
        if (freed) return;
        freed = true;
        running--;
        wake?.();
      };
      hooks.run(node, free).then(
        (outcome) => finish(node, outcome, freed),
        () => finish(node, 'failed', freed),
      );
    }
    if (unfinished === 0) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  for (const node of nodes) {
    if (outcomes.has(node.name)) continue;
    outcomes.set(node.name, 'skipped');
    hooks.skip(node, hooks.stopped() ? 'Cancelled' : 'FailFast');
  }
  return outcomes;
}
