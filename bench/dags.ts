// The DAGs of the execution-engine benchmarks, as plain data (no dependencies: the baseline imports it too),
// and the same DAG as a Makefile.

/** One node of a benchmark DAG: its name, its argv and the names it depends on. */
export type DagNode = { name: string; command: string[]; dependsOn: string[] };

/** A fan-out/fan-in DAG of `total` /bin/true tasks: `start` → (total − 2) independent tasks → `end`. */
export function fanOutDag(total: number): DagNode[] {
  const middle = Array.from({ length: total - 2 }, (_, i) => `t${i}`);
  const node = (name: string, dependsOn: string[]): DagNode => ({ name, command: ['/bin/true'], dependsOn });
  return [node('start', []), ...middle.map((name) => node(name, ['start'])), node('end', middle)];
}

/** Seconds each chain link of the makespan DAG sleeps, per chain (a, b, c); the critical path is chain c. */
const CHAINS: Record<string, number[]> = {
  a: [0.2, 0.3, 0.2],
  b: [0.3, 0.4, 0.3, 0.2],
  c: [0.5, 0.4, 0.5, 0.3, 0.4],
};
// At most 3 chains + 3 × FAN_OUT sleeps run at once (15): -p 16 never delays the critical path.
const FAN_OUT = 4;
const FAN_SLEEP = 0.3;

/**
 * A DAG of `sleep` tasks with a known critical path: three chains of different lengths from a common `root`
 * (0.2 s), a fan-out of 4 parallel sleeps (0.3 s) after each chain's first link, and a `join` (0.2 s) after all.
 */
export function makespanDag(): { nodes: DagNode[]; criticalPathMs: number } {
  const sleep = (s: number) => ['sleep', String(s)];
  const nodes: DagNode[] = [{ name: 'root', command: sleep(0.2), dependsOn: [] }];
  const tails: string[] = [];
  let longest = 0;
  for (const [chain, links] of Object.entries(CHAINS)) {
    links.forEach((s, i) => {
      nodes.push({ name: `${chain}${i}`, command: sleep(s), dependsOn: [i ? `${chain}${i - 1}` : 'root'] });
    });
    for (let f = 0; f < FAN_OUT; f++) {
      const name = `${chain}-fan${f}`;
      nodes.push({ name, command: sleep(FAN_SLEEP), dependsOn: [`${chain}0`] });
      tails.push(name);
    }
    tails.push(`${chain}${links.length - 1}`);
    longest = Math.max(
      longest,
      links.reduce((sum, s) => sum + s, 0),
      links[0] + FAN_SLEEP,
    );
  }
  nodes.push({ name: 'join', command: sleep(0.2), dependsOn: tails });
  return { nodes, criticalPathMs: Math.round((0.2 + longest + 0.2) * 1000) };
}

/** The DAG as a Makefile: one .PHONY target per node, recipe `@argv`, prerequisites its dependencies. */
export function makefile(dag: readonly DagNode[]): string {
  const names = dag.map((n) => n.name);
  const rules = dag.map(
    (n) => `${n.name}:${n.dependsOn.map((d) => ` ${d}`).join('')}\n\t@${n.command.join(' ')}\n`,
  );
  return `.PHONY: ${names.join(' ')}\n.DEFAULT_GOAL := ${names[names.length - 1]}\n${rules.join('')}`;
}
