import { checkDag } from '../../model/dag.ts';
import { didYouMean } from '../../model/suggest.ts';
import { labelOf, type Pending, type ProblemList } from './pending.ts';

type Spec = Record<string, unknown>;

// An entry's name, as the run names it: `name`, else the Task it refers to.
const nameOf = (entry: Spec) => String(entry.name ?? entry.taskRef ?? entry.ref ?? '');
const entriesOf = (value: unknown): [number, Spec][] =>
  Array.isArray(value)
    ? [...value.entries()].filter((e): e is [number, Spec] => e[1] !== null && typeof e[1] === 'object')
    : [];

/**
 * Checks a Workflow's `finally:` entries: each name is unique across `tasks` and `finally` (a run and its resume
 * know an entry by that name), and each `dependsOn` names an entry of the workflow (a finally entry waits for the
 * finally entries it names; `tasks` entries have all ended before any finally entry starts), without a cycle.
 */
export function checkFinally(pending: Pending, problems: ProblemList): void {
  const spec = (pending.effective.spec ?? {}) as Spec;
  const finals = entriesOf(spec.finally);
  if (finals.length === 0) return;
  const label = labelOf(pending.object);
  const tasks = new Set(entriesOf(spec.tasks).map(([, e]) => nameOf(e)));
  const seen = new Map<string, number>();
  for (const [i, entry] of finals) {
    const name = nameOf(entry);
    const other = tasks.has(name)
      ? 'an entry of spec.tasks'
      : seen.has(name)
        ? `spec.finally[${seen.get(name)}]`
        : undefined;
    if (other) {
      problems.add(pending.doc, label, ['spec', 'finally', i, 'name'], {
        code: 'DVM_DUPLICATE',
        message: `"${name}" is also the name of ${other}`,
        fix: 'Give every entry of tasks and finally a unique name; runs, resumes and dependsOn know entries by name.',
      });
    } else seen.set(name, i);
  }
  const known = [...tasks, ...seen.keys()];
  const nodes = finals.map(([, e]) => ({
    name: nameOf(e),
    dependsOn: (Array.isArray(e.dependsOn) ? e.dependsOn.map(String) : []).filter((d) => !tasks.has(d)),
  }));
  const result = checkDag(nodes);
  for (const [n, , name] of result.missing) {
    const [i, entry] = finals[n];
    const j = (entry.dependsOn as unknown[]).map(String).indexOf(name);
    problems.add(pending.doc, label, ['spec', 'finally', i, 'dependsOn', j], {
      code: 'DVM_REF_NOT_FOUND',
      message: `dependsOn "${name}" names no entry of spec.tasks or spec.finally${didYouMean(name, known)}`,
      fix: `Use the name of another entry: ${known.join(', ')}.`,
    });
  }
  if (result.cycle) {
    problems.add(pending.doc, label, ['spec', 'finally'], {
      code: 'DVM_DAG_CYCLE',
      message: `dependsOn forms a cycle: ${result.cycle.join(' → ')}`,
      fix: 'Remove one dependsOn edge of the cycle.',
    });
  }
}
