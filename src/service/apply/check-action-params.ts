import type { ActionDefinition } from '../../actions/action.ts';
import { createBuiltinRegistry } from '../../actions/registry.ts';
import { actionFromObject } from '../../actions/user-action.ts';
import { isDvmError } from '../../errors/dvm-error.ts';
import type { ResourceObject } from '../../model/api.ts';
import type { PathSegment } from '../../model/yaml-source.ts';
import { labelOf, type Pending, type ProblemList } from './pending.ts';

type Spec = Record<string, unknown>;

let builtins: ReturnType<typeof createBuiltinRegistry> | undefined;

// A string that still holds a `$(tasks…)` reference: its value is known only when the run gets there.
const hasReference = (value: unknown): boolean =>
  typeof value === 'string'
    ? value.includes('$(')
    : value !== null && typeof value === 'object' && Object.values(value).some(hasReference);

/** The params a task or callback passes to its action, as the engine builds them (see task-runner.ts). */
function paramsAt(spec: Spec, actionPath: readonly PathSegment[]): Spec | undefined {
  if (actionPath.length === 2) {
    if ((spec.action ?? 'exec') === 'exec') return undefined; // command/shell, checked on their own
    const params: Spec = { ...((spec.params ?? {}) as Spec) };
    if (spec.target !== undefined && params.target === undefined) params.target = spec.target;
    return params;
  }
  const { action: _action, ...params } = (spec[actionPath[1] as string] ?? {}) as Spec;
  return params;
}

/**
 * Validates the params of a task's action or of a callback against the action's input schema at apply time
 * (built-in actions, and Action objects with a command); params that hold result references wait for the run.
 */
export function checkActionParams(
  pending: Pending,
  problems: ProblemList,
  actionPath: readonly PathSegment[],
  actionName: string,
  actionObject: ResourceObject | undefined,
): void {
  const spec = (pending.effective.spec ?? {}) as Spec;
  const params = paramsAt(spec, actionPath);
  if (params === undefined || hasReference(params)) return;
  let definition: ActionDefinition | undefined;
  if (actionObject) {
    if (!(actionObject.spec as Spec | undefined)?.command) return; // handlers only: checked when run
    definition = actionFromObject(actionObject) as ActionDefinition;
  } else {
    builtins ??= createBuiltinRegistry();
    if (!builtins.has(actionName)) return; // served by the agent's registry: checked there
    definition = builtins.get(actionName);
  }
  try {
    builtins ??= createBuiltinRegistry();
    builtins.validateInput(definition, params);
  } catch (error) {
    // An Action whose inputs do not form a schema is reported on the Action itself (its kind schema).
    if (!isDvmError(error)) return;
    const where = actionPath.length === 2 ? ['spec', 'params'] : actionPath.slice(0, -1);
    const causes: { path?: string; message: string; fix?: string }[] =
      error.causes.length > 0 ? error.causes : [{ message: error.message, fix: error.fix }];
    for (const cause of causes) {
      problems.add(pending.doc, labelOf(pending.object), [...where, ...(cause.path ? [cause.path] : [])], {
        code: 'DVM_ACTION_INPUT_INVALID',
        message: `input of action ${actionName}: ${cause.message}`,
        ...(cause.fix ? { fix: cause.fix } : {}),
      });
    }
  }
}
