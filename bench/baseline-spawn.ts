// Baseline for `dvm run workflow`: the least work a DAG runner can do. Spawns the processes of a bench DAG
// (bench/dags.ts) with child_process.spawn in dependency order (a FIFO ready queue, as dvm's) with at most
// PARALLELISM at once, waits for each to exit, and fails on a non-zero exit. No records, no logs, no output.
// Usage: node bench/baseline-spawn.ts fanout|makespan [TASKS=1000] [PARALLELISM=2]
import { spawn } from 'node:child_process';
import { type DagNode, fanOutDag, makespanDag } from './dags.ts';

function runOne(node: DagNode): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(node.command[0], node.command.slice(1), { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${node.name} exited ${code}`))));
  });
}

/** Runs every node of `dag` once its dependencies exited 0, at most `parallelism` at once; resolves when all did. */
export function runDagBaseline(dag: readonly DagNode[], parallelism: number): Promise<void> {
  const waiting = new Map(dag.map((n) => [n.name, n.dependsOn.length]));
  const dependents = new Map<string, DagNode[]>();
  for (const n of dag) {
    for (const d of n.dependsOn) {
      const list = dependents.get(d);
      if (list) list.push(n);
      else dependents.set(d, [n]);
    }
  }
  const ready = dag.filter((n) => n.dependsOn.length === 0);
  let head = 0;
  let running = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const pump = () => {
      if (done === dag.length) return resolve();
      while (running < parallelism && head < ready.length) {
        const node = ready[head++];
        running++;
        runOne(node).then(() => {
          running--;
          done++;
          for (const child of dependents.get(node.name) ?? []) {
            const left = (waiting.get(child.name) ?? 1) - 1;
            waiting.set(child.name, left);
            if (left === 0) ready.push(child);
          }
          pump();
        }, reject);
      }
    };
    pump();
  });
}

if (import.meta.main) {
  const [shape = 'fanout', total = '1000', parallelism = '2'] = process.argv.slice(2);
  const dag = shape === 'makespan' ? makespanDag().nodes : fanOutDag(Number(total));
  await runDagBaseline(dag, Number(parallelism));
}
