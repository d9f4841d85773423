// YAML objects of the execution-engine benchmarks: a DAG of bench/dags.ts as a runnable Workflow (an
// Ecosystem, a Domain, one Task per workflow entry, the Workflow).
// Usage: node bench/generate-runs.ts fanout|makespan [TASKS=1000] > objects.yaml
import { stringify } from 'yaml';
import { type DagNode, fanOutDag, makespanDag } from './dags.ts';
import type { BenchObject } from './generate.ts';

const API = 'devopsmaestro.io/v1';
/** Ecosystem and domain of every generated run object. */
export const RUN_SCOPE = { ecosystem: 'bench', domain: 'engine' } as const;

/** The objects that make `dag` runnable as Workflow `workflow`: Ecosystem, Domain, one Task per node, Workflow. */
export function workflowObjects(workflow: string, dag: readonly DagNode[]): BenchObject[] {
  const at = { ...RUN_SCOPE };
  return [
    { apiVersion: API, kind: 'Ecosystem', metadata: { name: RUN_SCOPE.ecosystem } },
    { apiVersion: API, kind: 'Domain', metadata: { name: RUN_SCOPE.domain, ecosystem: RUN_SCOPE.ecosystem } },
    ...dag.map((n) => ({
      apiVersion: API,
      kind: 'Task',
      metadata: { name: `${workflow}-${n.name}`, ...at },
      spec: { command: n.command },
    })),
    {
      apiVersion: API,
      kind: 'Workflow',
      metadata: { name: workflow, ...at },
      spec: {
        tasks: dag.map((n) => ({
          name: n.name,
          taskRef: `${workflow}-${n.name}`,
          ...(n.dependsOn.length ? { dependsOn: n.dependsOn } : {}),
        })),
      },
    },
  ];
}

/** Renders objects as multi-document YAML in flow style (compact: 10,000 tasks stay a small file). */
export function runYaml(objects: readonly BenchObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0, collectionStyle: 'flow' })}`).join('');
}

if (import.meta.main) {
  const [shape = 'fanout', total = '1000'] = process.argv.slice(2);
  const dag = shape === 'makespan' ? makespanDag().nodes : fanOutDag(Number(total));
  process.stdout.write(runYaml(workflowObjects(shape, dag)));
}
