import type { ActionContext, ActionDefinition, NotifyConfig } from '../actions/action.ts';
import type { LeftoverProcesses } from '../actions/leftover-processes.ts';
import type { ActionRegistry } from '../actions/registry.ts';
import type { RunOptions, RunRecord, RunStore } from '../store/runs.ts';
import type { EngineListener } from './events.ts';

/** Everything the engine works with, passed in (never imported as singletons) so tests hand it real ones. */
export interface EngineResources {
  runs: RunStore;
  actions: ActionRegistry;
  /** Directory for run logs and results (`$DVM_HOME/runs`). */
  runsDir: string;
  /** Directory for cached task outputs (`$DVM_HOME/cache`). */
  cacheDir: string;
  notify: NotifyConfig;
  /** Working directory of tasks that name none (the selected App's path, else the current directory). */
  defaultWorkdir: string;
  /** Most tasks running at once. */
  parallelism: number;
  /** Run every task even when its fingerprint matches an earlier success. */
  noCache?: boolean;
  /** How the run was asked for, saved on its root record (for --resume). */
  options?: RunOptions;
  /** Records of an earlier run to resume, by node path: what succeeded there is reused. */
  resume?: Map<string, RunRecord>;
  resumedFrom?: string;
  trigger?: string;
  commit?: string;
  listener?: EngineListener;
  now?: () => Date;
  /**
   * Runs a built-in action other than exec through the agent's one enforcement path (policy, idempotency,
   * audit) as the local principal; without it the handler runs directly.
   */
  invoke?: (
    definition: ActionDefinition,
    input: unknown,
    context: ActionContext,
    requestId: string,
    /** The task's `environment` (target.env of the request), when it names one. */
    environment?: string,
    /** A callback's action: it cannot wait minutes for a second principal's approval. */
    callback?: boolean,
  ) => Promise<unknown>;
  /** Background processes tasks of this run left running (set per run by prepareRun; stopped when it ends). */
  leftovers?: LeftoverProcesses;
  /** Builds the action of a user-defined Action object that has `handlers:` (templates per target) instead of a command. */
  templateAction?: (name: string, spec: Record<string, unknown>) => ActionDefinition;
}
