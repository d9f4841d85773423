import type { CallbackSpec, PlanNode, TaskSpec } from '../../engine/plan.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import { type Placement, placementLabel } from '../../model/api.ts';
import { BUILTIN_ACTION_NAMES } from '../../model/builtin-actions.ts';
import type { RunLevel } from '../../store/runs.ts';
import { resolveObjectRef } from '../apply/check-references.ts';
import type { Platform } from '../platform.ts';
import { findObject } from '../query.ts';
import { View, type ViewObject } from '../view.ts';

/** Which stages of a pipeline to run. */
export interface StageSelection {
  /** Run only these stages (manual ones included when named). */
  stages?: string[];
  /** Run manual stages too. */
  includeManual?: boolean;
}

type Spec = Record<string, unknown>;
const LEVEL: Record<string, RunLevel> = {
  Task: 'task',
  Workflow: 'workflow',
  Pipeline: 'pipeline',
  Orchestration: 'orchestration',
  Job: 'job',
};

function callbacks(spec: Spec): Pick<PlanNode, 'onComplete' | 'onSuccess' | 'onFailure'> {
  const pick = (v: unknown) =>
    v && typeof v === 'object' && typeof (v as CallbackSpec).action === 'string'
      ? (v as CallbackSpec)
      : undefined;
  return {
    onComplete: pick(spec.onComplete),
    onSuccess: pick(spec.onSuccess),
    onFailure: pick(spec.onFailure),
  };
}

// Workflows with more entries than this load the Tasks beside them with one query instead of one each.
const PRELOAD_TASKS = 32;

function duplicateEntry(workflow: ViewObject, name: string, path: string): DvmError {
  return new DvmError('DVM_DUPLICATE', `Workflow/${workflow.name} ${path}: "${name}" names two entries`, {
    fix: 'Give every entry of tasks and finally a unique name and apply the workflow again.',
  });
}

/** Builds the run tree of a Task, Workflow, Pipeline, Orchestration or Job from the store. */
export class PlanBuilder {
  private readonly platform: Platform;
  private readonly view: View;
  private readonly selection: StageSelection;
  private hasPipeline = false;

  constructor(platform: Platform, selection: StageSelection = {}) {
    this.platform = platform;
    this.view = new View(platform.store);
    this.selection = selection;
  }

  /** The plan for the object a user named (found in the scope, like `dvm get`). */
  async forObject(kind: string, name: string, scope: Placement): Promise<PlanNode> {
    const info = this.platform.kinds.require(kind);
    if (!LEVEL[info.kind]) {
      throw new DvmError('DVM_USAGE', `${info.kind} objects cannot be run`, {
        fix: 'Run a task, workflow, pipeline, orchestration or job.',
      });
    }
    const stored = await findObject(this.platform.store, info, name, scope);
    const object = await this.view.find(stored.kind, stored.placement, stored.name);
    const plan = await this.node(object as ViewObject, '', stored.name);
    const stages = this.selection.stages ?? [];
    if (stages.length > 0 && !this.hasPipeline) {
      throw new DvmError(
        'DVM_USAGE',
        `--stage ${stages.join(', ')}: ${stored.kind.toLowerCase()}/${stored.name} runs no pipeline`,
        {
          fix: 'Leave out --stage: it picks stages of a pipeline (or of the pipelines a job or orchestration runs).',
        },
      );
    }
    return plan;
  }

  private async resolve(from: ViewObject, kinds: string[], ref: string, path: string): Promise<ViewObject> {
    const result = await resolveObjectRef(this.view, this.platform.kinds, from.placement, kinds, ref);
    if ('found' in result) return result.found;
    // An object of the same name applied since in another scope (apply checks only the objects it writes).
    if ('ambiguous' in result) {
      const names = result.ambiguous.map((o) => `${o.kind}/${o.name} in ${placementLabel(o.placement)}`);
      throw new DvmError(
        'DVM_AMBIGUOUS',
        `${from.kind}/${from.name} ${path}: "${ref}" matches ${names.length} objects: ${names.join(', ')}`,
        { fix: `Qualify the reference as DOMAIN/NAME in ${from.kind}/${from.name} and apply it again.` },
      );
    }
    throw new DvmError(
      'DVM_REF_NOT_FOUND',
      `${from.kind}/${from.name} ${path}: ${kinds.join(' or ')} "${ref}" no longer resolves`,
      {
        fix: 'Re-apply the objects it refers to (dvm apply) — something was deleted with --force.',
      },
    );
  }

  private async node(
    object: ViewObject,
    parentPath: string,
    entry: string,
    extra: Partial<PlanNode> = {},
  ): Promise<PlanNode> {
    const spec = (object.effective.spec ?? {}) as Spec;
    const path = parentPath ? `${parentPath}/${entry}` : entry;
    const base: PlanNode = {
      path,
      level: LEVEL[object.kind],
      kind: object.kind,
      name: object.name,
      entry,
      placement: object.placement,
      dependsOn: [],
      children: [],
      ...callbacks(spec),
      ...extra,
    };
    await this.callbackActions(base);
    switch (object.kind) {
      case 'Task':
        return this.taskNode(base, spec);
      case 'Workflow':
        base.children = await this.entries(object, spec, path);
        return base;
      case 'Pipeline':
        base.children = await this.stages(object, spec, path);
        return base;
      case 'Orchestration': {
        const list = Array.isArray(spec.pipelines) ? (spec.pipelines as Spec[]) : [];
        base.children = await Promise.all(
          list.map(async (p, i) => {
            const target = await this.resolve(
              object,
              ['Pipeline'],
              String(p.pipelineRef),
              `spec.pipelines[${i}].pipelineRef`,
            );
            return this.node(target, path, String(p.name ?? p.pipelineRef), {
              dependsOn: (p.dependsOn as string[]) ?? [],
            });
          }),
        );
        return base;
      }
      default: {
        const target = await this.resolve(
          object,
          ['Pipeline', 'Workflow', 'Task'],
          String(spec.runs),
          'spec.runs',
        );
        base.children = [await this.node(target, path, target.name)];
        return base;
      }
    }
  }

  // Callbacks may name Action objects too: their specs travel with the node (the engine's registry has built-ins).
  private async callbackActions(base: PlanNode): Promise<void> {
    for (const callback of [base.onComplete, base.onSuccess, base.onFailure]) {
      if (!callback || BUILTIN_ACTION_NAMES.has(callback.action)) continue;
      const object = await this.view.find('Action', {}, callback.action);
      if (!object) continue;
      base.callbackActions ??= {};
      base.callbackActions[callback.action] = (object.effective.spec ?? {}) as Spec;
    }
  }

  private async taskNode(base: PlanNode, spec: Spec): Promise<PlanNode> {
    const task = spec as TaskSpec;
    base.task = task;
    const action = task.action ?? 'exec';
    if (!BUILTIN_ACTION_NAMES.has(action)) {
      const object = await this.view.find('Action', {}, action);
      if (object) base.userAction = { name: action, spec: (object.effective.spec ?? {}) as Spec };
    }
    return base;
  }

  private async entries(workflow: ViewObject, spec: Spec, path: string): Promise<PlanNode[]> {
    const nodes: PlanNode[] = [];
    const count = [spec.tasks, spec.finally].reduce(
      (n: number, l) => n + (Array.isArray(l) ? l.length : 0),
      0,
    );
    // A large workflow's tasks usually live beside it: one query loads them all.
    if (count > PRELOAD_TASKS) await this.view.preloadUnder('Task', workflow.placement);
    const names = new Set<string>();
    for (const [field, isFinally] of [
      ['tasks', false],
      ['finally', true],
    ] as const) {
      const list = Array.isArray(spec[field]) ? (spec[field] as Spec[]) : [];
      for (const [i, entry] of list.entries()) {
        const ref = String(entry.taskRef ?? entry.ref);
        const name = String(entry.name ?? ref);
        // Apply refuses this; a workflow stored before it did must not run two entries as one node (resume).
        if (names.has(name)) throw duplicateEntry(workflow, name, `spec.${field}[${i}].name`);
        names.add(name);
        const task = await this.resolve(workflow, ['Task'], ref, `spec.${field}[${i}].taskRef`);
        nodes.push(
          await this.node(task, path, name, {
            dependsOn: (entry.dependsOn as string[]) ?? [],
            continueOnError: entry.continueOnError === true,
            isFinally,
          }),
        );
      }
    }
    return nodes;
  }

  private async stages(pipeline: ViewObject, spec: Spec, path: string): Promise<PlanNode[]> {
    this.hasPipeline = true;
    const { stages: only, includeManual } = this.selection;
    const list = Array.isArray(spec.stages) ? (spec.stages as Spec[]) : [];
    const known = list.map((s) => String(s.name));
    for (const name of only ?? []) {
      if (!known.includes(name)) {
        throw new DvmError('DVM_NOT_FOUND', `pipeline ${pipeline.name} has no stage "${name}"`, {
          fix: `Stages: ${known.join(', ')}.`,
        });
      }
    }
    const depsOf = new Map(list.map((s) => [String(s.name), (s.dependsOn as string[]) ?? []]));
    // Without --stage: the stages that are not manual (all with --include-manual), less those that wait for a
    // stage left out, as a job that needs a manual one waits for it in GitLab; with --stage: the stages named.
    const runs = new Map<string, boolean>();
    const included = (name: string): boolean => {
      const known = runs.get(name);
      if (known !== undefined) return known;
      runs.set(name, false); // a cycle (refused at apply) ends here
      const stage = list.find((s) => String(s.name) === name);
      const result =
        stage !== undefined &&
        (includeManual || stage.manual !== true) &&
        (depsOf.get(name) ?? []).every(included);
      runs.set(name, result);
      return result;
    };
    const chosen = list.filter((s) => (only ? only.includes(String(s.name)) : included(String(s.name))));
    const names = new Set(chosen.map((s) => String(s.name)));
    // A stage waits for the stages of this run it depends on, also through stages left out (--stage test
    // --stage smoke, where smoke depends on deploy and deploy on test: smoke after test).
    const waitsFor = (name: string, seen = new Set<string>()): string[] =>
      (depsOf.get(name) ?? []).flatMap((d) => {
        if (seen.has(d)) return [];
        seen.add(d);
        return names.has(d) ? [d] : waitsFor(d, seen);
      });
    return Promise.all(
      chosen.map(async (stage) => {
        const ref = String(stage.workflowRef ?? stage.workflow);
        const workflow = await this.resolve(
          pipeline,
          ['Workflow'],
          ref,
          `spec.stages[${String(stage.name)}].workflowRef`,
        );
        // Stages left out that it depends on (and none of this run behind them) count as met.
        const dependsOn = [...new Set(waitsFor(String(stage.name)))];
        const node = await this.node(workflow, path, String(stage.name), { dependsOn });
        return { ...node, level: 'stage' as RunLevel };
      }),
    );
  }
}
