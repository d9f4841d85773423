/** Every state a run (of any level) can be in. */
export const RUN_STATUSES = [
  'Pending',
  'Running',
  'Succeeded',
  'Failed',
  'Cancelled',
  'TimedOut',
  'Skipped',
  'Cached',
  'Interrupted',
] as const;

/** The state of a run. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The level of a run in the tree: a job runs an orchestration, pipeline, workflow or task. */
export type RunLevel = 'job' | 'orchestration' | 'pipeline' | 'stage' | 'workflow' | 'task';

/** Statuses after which a run never changes again. */
export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set([
  'Succeeded',
  'Failed',
  'Cancelled',
  'TimedOut',
  'Skipped',
  'Cached',
  'Interrupted',
]);

/** A persisted run record of any level. */
export interface RunRecord {
  id: string;
  rootId: string;
  parentId?: string;
  level: RunLevel;
  /** Kind and name of the object run (`Task`/`lint`, `Pipeline`/`ci-pipeline`). */
  kind: string;
  name: string;
  /** The entry name in the parent (a workflow's task entry, a pipeline's stage). */
  node: string;
  ecosystem?: string;
  domain?: string;
  status: RunStatus;
  /** A short machine reason: `ExitCode`, `Timeout`, `DependencyFailed`, `WhenFalse`, `Interrupted`, … */
  reason?: string;
  /** Whose fault a failure is: the task's (`user`) or dvm's / the machine's (`system`). */
  origin?: 'user' | 'system';
  message?: string;
  /** What to do about a failure: its error's fix, when it has one. */
  fix?: string;
  trigger?: string;
  commit?: string;
  attempts: number;
  exitCode?: number;
  logPath?: string;
  results: Record<string, string>;
  fingerprint?: string;
  /** Why a cached task re-ran (which input changed), or which run's results it reused. */
  cacheNote?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** On a root record, the dvm process that owns the run (a dead owner means the run was interrupted). */
  pid?: number;
  /**
   * On a task, the process group of its command (of the last attempt). Apart from `pid`: a run of one task has a
   * single record that is both root and task.
   */
  pgid?: number;
  /** On a root record, how the run was asked for: `--resume` plans and runs it the same way. */
  options?: RunOptions;
  /** Order of creation within the root run. */
  seq: number;
}

/** How a run was asked for, beyond what it runs: kept on its root record for `dvm run --resume`. */
export interface RunOptions {
  /** The pipeline stages named with --stage. */
  stages?: string[];
  /** --include-manual: manual stages ran too. */
  includeManual?: boolean;
  /** The App selected with -a (or `dvm use app`). */
  app?: string;
  /** Where tasks that name no workdir ran: the Job's or the selected App's path, else the current directory. */
  workdir?: string;
  /** --parallelism, when given. */
  parallelism?: number;
  /** --no-cache. */
  noCache?: boolean;
}

/** A task result stored for reuse when the same fingerprint comes again. */
export interface CacheEntry {
  fingerprint: string;
  runId: string;
  results: Record<string, string>;
  outputsDir?: string;
  /** Input file → content hash, to say which input changed next time. */
  inputs: Record<string, string>;
  createdAt: string;
}

/** Which runs `RunStore.list` returns: fields left out match any run; an empty ecosystem or domain, runs without. */
export interface RunFilter {
  kind?: string;
  name?: string;
  ecosystem?: string;
  domain?: string;
  limit?: number;
  /** Root runs only (the default), or records of every level. */
  roots?: boolean;
}

/** Persistence of run records and the task cache. */
export interface RunStore {
  /**
   * Queues a record to be written; writes are batched into one transaction every few milliseconds and store the
   * record as it is then (keep saving the same object after each change; do not reuse it for another record).
   */
  save(record: RunRecord): void;
  /** Writes everything queued now. */
  flush(): void;
  get(id: string): RunRecord | undefined;
  /** A run and all its descendants, in creation order. */
  tree(rootId: string): RunRecord[];
  /** Latest root runs first, optionally of one object, or of one ecosystem or domain (what they ran is there). */
  list(filter?: RunFilter): RunRecord[];
  /** Root runs in `Running`/`Pending` state. */
  active(): RunRecord[];
  cacheGet(fingerprint: string): CacheEntry | undefined;
  cachePut(entry: CacheEntry): void;
  /** The input hashes of the last run of a task (by a stable task key), to explain cache misses. */
  lastInputs(taskKey: string): Record<string, string> | undefined;
  setLastInputs(taskKey: string, inputs: Record<string, string>): void;
}

/** Statuses that count as success for an exit status and for what depends on the run. */
export const SUCCESS_STATUSES: ReadonlySet<RunStatus> = new Set(['Succeeded', 'Cached', 'Skipped']);
