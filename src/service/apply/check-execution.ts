import { splitCommand } from '../../actions/builtin/argv.ts';
import { resultRefsOf } from '../../engine/results.ts';
import { shellReferenceContexts } from '../../engine/shell-refs.ts';
import { parseWhen } from '../../engine/when.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { BUILTIN_ACTION_NAMES } from '../../model/builtin-actions.ts';
import type { KindRegistry } from '../../model/kind-registry.ts';
import { formatPath } from '../../model/path.ts';
import { commitTriggerProblem } from '../jobs/job-app.ts';
import { cronProblem, readTriggers } from '../jobs/triggers.ts';
import type { View } from '../view.ts';
import { checkDependencyArgv } from './check-dependency.ts';
import { checkFinally } from './check-finally.ts';
import { resolveObjectRef } from './check-references.ts';
import { labelOf, type Pending, type ProblemList } from './pending.ts';

type Spec = Record<string, unknown>;

// Entries of a list that are objects (the schema reports the others; this check must not trip on them).
const isObject = (v: unknown): v is Spec => v !== null && typeof v === 'object' && !Array.isArray(v);
const objects = (value: unknown): Spec[] => (Array.isArray(value) ? value.filter(isObject) : []);

function checkCron(pending: Pending, problems: ProblemList, value: unknown, path: (string | number)[]): void {
  if (typeof value !== 'string') return;
  const problem = cronProblem(value);
  if (problem) {
    problems.add(pending.doc, labelOf(pending.object), path, {
      code: 'DVM_CRON_INVALID',
      message: problem,
      fix: 'Use five fields (minute hour day-of-month month day-of-week, like "0 * * * *"), or six with seconds first, that some date matches.',
    });
  }
}

/** Checks a Task's command string (no shell features without `shell:`), `when`, `shell:` references and schedule. */
function checkTask(pending: Pending, problems: ProblemList): void {
  const spec = (pending.effective.spec ?? {}) as Spec;
  if (typeof spec.command === 'string') {
    try {
      splitCommand(spec.command);
    } catch (error) {
      if (!isDvmError(error)) throw error;
      problems.add(pending.doc, labelOf(pending.object), ['spec', 'command'], {
        code: error.code,
        message: error.message,
        fix: error.fix,
      });
    }
  }
  // A `when` that does not parse, and a result reference where a shell script cannot expand it.
  const checks: [string, (text: string) => unknown][] = [
    ['when', parseWhen],
    ['shell', shellReferenceContexts],
  ];
  for (const [field, check] of checks) {
    if (typeof spec[field] !== 'string') continue;
    try {
      check(spec[field]);
    } catch (error) {
      if (!isDvmError(error)) throw error;
      problems.add(pending.doc, labelOf(pending.object), ['spec', field], {
        code: error.code,
        message: error.message,
        fix: error.fix,
      });
    }
  }
  if (spec.command !== undefined && spec.shell !== undefined) {
    problems.add(pending.doc, labelOf(pending.object), ['spec', 'shell'], {
      code: 'DVM_SCHEMA_INVALID',
      message: 'a task has either command or shell, not both',
      fix: 'Keep `command` (run without a shell) or `shell` (a /bin/sh script).',
    });
  }
  // Only built-ins other than exec go through the agent: exec and Action objects run the task's own command, and an
  // environment there would promise a gate it never meets.
  const action = String(spec.action ?? 'exec');
  if (spec.environment !== undefined && (action === 'exec' || !BUILTIN_ACTION_NAMES.has(action))) {
    problems.add(pending.doc, labelOf(pending.object), ['spec', 'environment'], {
      code: 'DVM_SCHEMA_INVALID',
      message: `environment is for a task whose action goes through the agent (docker.*, k8s.*, notify.*, …); ${action === 'exec' ? 'exec' : `the Action object ${action}`} runs the task's own command, with no policy gate`,
      fix: 'Remove environment, or give the task a built-in action other than exec.',
    });
  }
  checkCron(pending, problems, spec.schedule, ['spec', 'schedule']);
}

// Entries a workflow entry depends on, directly or not.
function upstreamOf(byName: ReadonlyMap<string, Spec>, name: string): Set<string> {
  const seen = new Set<string>();
  const visit = (n: string) => {
    for (const dep of (byName.get(n)?.dependsOn as string[] | undefined) ?? []) {
      if (!seen.has(dep)) {
        seen.add(dep);
        visit(dep);
      }
    }
  };
  visit(name);
  return seen;
}

/** Checks the `$(tasks.NAME.results.RESULT)` references of a workflow's tasks against the workflow. */
async function checkWorkflowResults(
  pending: Pending,
  view: View,
  kinds: KindRegistry,
  problems: ProblemList,
): Promise<void> {
  const spec = (pending.effective.spec ?? {}) as Spec;
  const label = labelOf(pending.object);
  for (const field of ['tasks', 'finally'] as const) {
    const list = Array.isArray(spec[field]) ? (spec[field] as unknown[]) : [];
    const all = [...objects(list), ...(field === 'finally' ? objects(spec.tasks) : [])];
    const declared = new Map<string, Set<string>>();
    // Built once per list (not per entry): a 10,000-task workflow must not cost 10,000².
    const byName = new Map(all.map((e) => [String(e.name ?? e.taskRef ?? e.ref), e]));
    for (const entry of all) {
      const ref = String(entry.taskRef ?? entry.ref ?? '');
      const found = await resolveObjectRef(view, kinds, pending.placement, ['Task'], ref);
      const results =
        'found' in found
          ? ((found.found.effective.spec as Spec)?.results as { name: string }[] | undefined)
          : undefined;
      declared.set(String(entry.name ?? ref), new Set((results ?? []).map((r) => r.name)));
    }
    for (const [i, entry] of list.entries()) {
      if (!isObject(entry)) continue;
      const ref = String(entry.taskRef ?? entry.ref ?? '');
      const found = await resolveObjectRef(view, kinds, pending.placement, ['Task'], ref);
      if (!('found' in found)) continue;
      const name = String(entry.name ?? ref);
      const uses = resultRefsOf((found.found.effective.spec ?? {}) as Spec);
      if (uses.length === 0) continue;
      const upstream = upstreamOf(byName, name);
      for (const use of uses) {
        const results = declared.get(use.task);
        let problem: string | undefined;
        if (!results) problem = `${use.text} names no entry of this workflow`;
        else if (!results.has(use.result))
          problem = `${use.text}: task entry "${use.task}" declares no result "${use.result}" (it declares: ${[...results].join(', ') || 'none'})`;
        else if (field === 'tasks' && !upstream.has(use.task))
          problem = `${use.text}: "${name}" uses a result of "${use.task}" but does not depend on it`;
        if (problem) {
          problems.add(pending.doc, label, ['spec', field, i, entry.taskRef ? 'taskRef' : 'ref'], {
            code: 'DVM_RESULT_REF',
            message: `Task/${ref}: ${problem}`,
            fix: `Declare the result in the producing Task's spec.results and add it to dependsOn of "${name}".`,
          });
        }
      }
    }
  }
}

/** Execution checks that apply can make before anything runs: commands, schedules, finally entries, result references. */
export async function checkExecution(
  pending: Pending,
  view: View,
  kinds: KindRegistry,
  problems: ProblemList,
): Promise<void> {
  const spec = (pending.effective.spec ?? {}) as Spec;
  switch (pending.info.kind) {
    case 'Task':
      checkTask(pending, problems);
      break;
    case 'Workflow':
      checkFinally(pending, problems);
      await checkWorkflowResults(pending, view, kinds, problems);
      break;
    case 'Dependency':
      checkDependencyArgv(pending, problems);
      break;
    case 'Volume':
      checkCron(pending, problems, (spec.backup as Spec | undefined)?.schedule, [
        'spec',
        'backup',
        'schedule',
      ]);
      break;
    case 'Job':
      checkCron(pending, problems, (spec.trigger as Spec | undefined)?.schedule, [
        'spec',
        'trigger',
        'schedule',
      ]);
      break;
  }
}

// manual: true wins over the rest of a trigger: a schedule or commit event beside it never fires, which is worth
// saying, as the author wrote them to fire.
function manualDisarms(spec: Spec): DvmError | undefined {
  const trigger = spec.trigger as Spec | undefined;
  if (trigger?.manual !== true) return undefined;
  const rest = ['schedule', 'event', 'watch'].filter((key) => trigger[key] !== undefined);
  if (rest.length === 0) return undefined;
  return new DvmError(
    'DVM_TRIGGER_INVALID',
    `manual: true turns off the rest of this trigger (${rest.join(', ')}): dvm serve never starts this job on its own`,
    {
      fix: 'Remove manual: true to arm the schedule or commit event, or remove them.',
      path: 'spec.trigger.manual',
    },
  );
}

/**
 * Warnings (not errors: the model keeps triggers such as `event: unhealthy` that `dvm serve` cannot arm yet, and
 * the App a commit trigger watches may be applied later) about a Job trigger serve would not arm, shaped like
 * apply's errors: CODE FILE:LINE:COLUMN Kind/name PATH: message.
 */
export async function triggerWarnings(pending: Pending, view: View, kinds: KindRegistry): Promise<string[]> {
  if (pending.info.kind !== 'Job') return [];
  const spec = (pending.effective.spec ?? {}) as Spec;
  const triggers = readTriggers(spec);
  const problems = triggers.problems.filter((problem) => problem.code !== 'DVM_CRON_INVALID'); // an error, reported by checkExecution
  if (triggers.commit && !triggers.manual) {
    const problem = await commitTriggerProblem(view, kinds, pending.placement, spec);
    if (problem) problems.push(problem);
  }
  const disarmed = manualDisarms(spec);
  if (disarmed) problems.push(disarmed);
  return problems.map((problem) => {
    // A path the document does not have (spec.app left out) is shown at the trigger.
    const at = problem.location.path ?? 'spec.trigger';
    const path = (at === 'spec.app' && typeof spec.app !== 'string' ? 'spec.trigger' : at).split('.');
    const { line, column } = pending.doc.locate(path);
    return `${problem.code} ${pending.doc.file}:${line}:${column} ${labelOf(pending.object)} ${formatPath(path)}: ${problem.message} (dvm run job still runs it by hand)`;
  });
}
