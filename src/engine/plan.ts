import type { Placement } from '../model/api.ts';
import type { RunLevel } from '../store/runs.ts';

/** A callback (`onSuccess`, `onFailure`, `onComplete`): an action and its parameters. */
export interface CallbackSpec {
  action: string;
  [param: string]: unknown;
}

/** The effective spec of a Task, as the engine reads it. */
export interface TaskSpec {
  action?: string;
  command?: string | string[];
  shell?: string;
  workdir?: string;
  timeout?: string;
  env?: { name: string; value?: string | number | boolean }[];
  retries?: number;
  when?: string;
  results?: { name: string }[];
  params?: Record<string, unknown>;
  target?: string;
  /** The environment its action acts in (target.env of the agent request); pipeline when absent. */
  environment?: string;
  inputs?: string[];
  outputs?: string[];
  onSuccess?: CallbackSpec;
  onFailure?: CallbackSpec;
}

/** One node of a run tree: a task, or a container (workflow, stage, pipeline, orchestration, job) of nodes. */
export interface PlanNode {
  /** Path of entry names from the root, like `build/lint` (stable across runs: resume matches on it). */
  path: string;
  level: RunLevel;
  /** Kind and name of the object this node runs. */
  kind: string;
  name: string;
  /** Entry name in the parent (the workflow's task entry, the pipeline's stage). */
  entry: string;
  placement: Placement;
  /** Names of sibling entries that must succeed first. */
  dependsOn: string[];
  /** A failure of this node does not fail its parent or stop its siblings. */
  continueOnError?: boolean;
  /** Runs after the other siblings, whatever their outcome. */
  isFinally?: boolean;
  task?: TaskSpec;
  /** For a task whose action is a user-defined Action object: that object's effective spec. */
  userAction?: { name: string; spec: Record<string, unknown> };
  children: PlanNode[];
  onComplete?: CallbackSpec;
  onSuccess?: CallbackSpec;
  onFailure?: CallbackSpec;
  /** The effective specs of the Action objects its callbacks name, by action name. */
  callbackActions?: Record<string, Record<string, unknown>>;
}
