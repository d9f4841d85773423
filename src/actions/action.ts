import type { DvmError } from '../errors/dvm-error.ts';

/** How much an action can change: the agent API and policies decide on this, never the caller. */
export type Risk = 'read' | 'write' | 'destructive';

/** Where an action writes what it prints. */
export interface LogSink {
  /** Appends output; the sink caps the total size and marks the log `truncated` past the cap. */
  write(stream: 'stdout' | 'stderr', chunk: string | Uint8Array): void;
  /** Path of the log file, if the sink writes to one. */
  readonly path?: string;
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
