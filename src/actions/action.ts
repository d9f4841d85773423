import type { DvmError } from '../errors/dvm-error.ts';
import type { LeftoverProcesses } from './leftover-processes.ts';

/** How much an action can change: the agent API and policies decide on this, never the caller. */
export type Risk = 'read' | 'write' | 'destructive';

/** Where an action writes what it prints. */
export interface LogSink {
  /** Appends output; the sink caps the total size and marks the log `truncated` past the cap. */
  write(stream: 'stdout' | 'stderr', chunk: string | Uint8Array): void;
  /** Path of the log file, if the sink writes to one. */
  readonly path?: string;
  /** The sink's cap in bytes, if it has one. */
  readonly maxBytes?: number;
  /**
   * A file descriptor a child process may write its stdout and stderr into directly, saving the two pipes and
   * the copying through this process; undefined when the sink cannot take one (then output goes to write()).
   */
  attachChild?(): ChildOutput | undefined;
  /** Keeps the file when it is closed even if it is empty (background processes still write into it). */
  keepFile?(): void;
}

/** A child's direct line into a log: give it `fd` as stdout and stderr; call release() once it has exited. */
export interface ChildOutput {
  readonly fd: number;
  /** Applies the log's cap to what the child wrote (and marks the log truncated when it went past). */
  release(): void;
}

/** Notification targets from configuration (`$DVM_HOME/config.yaml`, `notify:`). */
export interface NotifyConfig {
  slack?: { url: string };
  alert?: { url: string };
  team?: { url: string };
}

/** What an action handler runs with; the engine (or the agent API) builds it. */
export interface ActionContext {
  /** Aborted on cancel or timeout; handlers stop promptly and clean up (kill process groups). */
  signal: AbortSignal;
  /** Absolute working directory. */
  workdir: string;
  /** Environment for child processes (already merged: process env, then task env). */
  env: Record<string, string>;
  log: LogSink;
  /** Directory where a task writes its named results, one file per result (exported as $DVM_RESULTS). */
  resultsDir: string;
  notify: NotifyConfig;
  /** Cap of a read action's artifact (raw output) in bytes; the agent API sets it from policy (default 1 MiB). */
  maxOutputBytes?: number;
  /** Streams progress and log lines of a long-running action (the agent API forwards them over SSE). */
  emit?: (event: ActionProgress) => void;
  /** Where a command's background processes that outlive it are handed, to be stopped when the run ends. */
  leftovers?: LeftoverProcesses;
  /** Told the pid of each process started (its process group's id), so a run record can name it. */
  onSpawn?: (pid: number) => void;
  /**
   * Told when a command exited with status 0, before its result is delivered (a macrotask later): the engine hands
   * the task's parallelism slot to the next task then, so starting it overlaps recording this one.
   */
  onSucceeded?: () => void;
  /**
   * Stable for one request (its principal and request_id) when a canonicalInput must choose (chaos.kill's random
   * target): the same request, sent again with its confirmation, chooses the same.
   */
  choiceSeed?: string;
}

/** A progress report or output line of a running action. */
export type ActionProgress =
  | { type: 'progress'; message: string; percent?: number }
  /**
   * A line of output; `context`: a line read only for what it opens (one of the lines above a source's tail, so that
   * a tail that would start on a secret's value below its key has that key, or that value): never shown.
   */
  | { type: 'log'; stream: 'stdout' | 'stderr'; line: string; context?: boolean };

/** Raw output of a read action, kept as an artifact and truncated by policy with byte counts. */
export interface Artifact {
  /** Media type of `content`, like text/plain. */
  contentType: string;
  /** The kept output (UTF-8), at most the cap. */
  content: string;
  /** Bytes kept. */
  bytes: number;
  /** Bytes the source produced. */
  totalBytes: number;
  truncated: boolean;
  /**
   * Set when the line (a JSON artifact: the item) at the cut was alone longer than the cap: its bytes. Cuts keep whole
   * lines or items only, so it was left out whole, and the artifact may be empty.
   */
  oversizeBytes?: number;
}

/** What every read action returns: a structured summary plus the raw output as an artifact. */
export interface ReadOutput<Summary = Record<string, unknown>> {
  summary: Summary;
  artifact: Artifact;
}

/** Default and maximum time an action may run; the agent API clamps a caller's timeout to `maxMs`. */
export interface ActionTimeouts {
  defaultMs: number;
  maxMs: number;
}

/** A versioned, typed action: the one registry that tasks, the agent API, the planner and MCP all use. */
export interface ActionDefinition<Input = Record<string, unknown>, Output = Record<string, unknown>> {
  name: string;
  /** Semantic version, like 1.0.0. */
  version: string;
  description: string;
  risk: Risk;
  /** JSON Schema of the input (validated before the handler runs). */
  inputSchema: Record<string, unknown>;
  /** JSON Schema of the output. */
  outputSchema: Record<string, unknown>;
  /** Default and maximum run time (default 30 s / 5 min when absent). */
  timeouts?: ActionTimeouts;
  /** True when the agent API should answer 202 with an execution id instead of waiting (e.g. follow). */
  longRunning?(input: Input): boolean;
  /**
   * The least time a run with this input needs (a restart's grace period, then the start): the agent raises its default
   * timeout to it and refuses a shorter `timeout`, so a write is never stopped half-way by a timeout it could not meet.
   */
  minTimeoutMs?(input: Input): number;
  /**
   * The input with what it names written in the one form policies decide on (a container's id or id prefix → its
   * name; a JVM's pid → its pid and main class), or undefined when that cannot be told (not found, unreachable): the
   * input is then decided on as sent. The agent calls it after validation and before the policy, so a rule on a name
   * holds whichever alias a caller sends.
   */
  canonicalInput?(input: Input, context: ActionContext): Promise<Input | undefined>;
  /** Runs the action; throws a DvmError (see ActionFailure) when it fails. */
  handler(input: Input, context: ActionContext): Promise<Output>;
}

/** The outcome details an action failure carries in `details` of its DvmError. */
export interface ActionFailureDetails {
  exitCode?: number;
  signal?: string;
  /** `user`: the task's own fault (non-zero exit, bad workdir); `system`: dvm or the machine's. */
  origin: 'user' | 'system';
}

/** Type guard used by the engine to read failure details. */
export type ActionFailure = DvmError & { details: ActionFailureDetails };
