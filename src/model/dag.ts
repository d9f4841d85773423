/** A node of a dependsOn graph: its name and the names it waits for. */
export interface DagNode {
  name: string;
  dependsOn: readonly string[];
}

/** The problems of a dependsOn graph: edges to unknown nodes and (at most one reported) cycle. */
export interface DagProblems {
  /** `[node index, dependsOn index, missing name]` for each edge to a node that does not exist. */
  missing: [number, number, string][];
  /** The nodes of one cycle in order, first repeated at the end (`a → b → a`), if any. */
  cycle?: string[];
}

/** Checks a dependsOn graph: Kahn's algorithm finds whether a cycle exists, a DFS then names it. */
export function checkDag(nodes: readonly DagNode[]): DagProblems {
  const names = new Set(nodes.map((n) => n.name));
  const missing: [number, number, string][] = [];
  nodes.forEach((node, i) => {
    node.dependsOn.forEach((dep, j) => {
      if (!names.has(dep)) missing.push([i, j, dep]);
    });
  });
  const edges = new Map<string, string[]>(
    nodes.map((n) => [n.name, n.dependsOn.filter((d) => names.has(d))]),
  );
  const indegree = new Map<string, number>(nodes.map((n) => [n.name, 0]));
  for (const deps of edges.values()) for (const d of deps) indegree.set(d, (indegree.get(d) ?? 0) + 1);
  const queue = [...indegree].filter(([, d]) => d === 0).map(([n]) => n);
  let visited = 0;
  while (queue.length > 0) {
    const name = queue.pop() as string;
    visited++;
    for (const dep of edges.get(name) ?? []) {
      const left = (indegree.get(dep) ?? 0) - 1;
      indegree.set(dep, left);
      if (left === 0) queue.push(dep);
    }
  }
  if (visited === indegree.size) return { missing };
  return { missing, cycle: findCycle(edges) };
}

function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    state.set(name, 'active');
    stack.push(name);
    for (const next of edges.get(name) ?? []) {
      if (state.get(next) === 'active') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of edges.keys()) {
    if (!state.has(name)) {
      const found = visit(name);
      if (found) return found;
    }
  }
  return undefined;
}
