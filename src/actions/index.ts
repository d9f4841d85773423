export type {
  ActionContext,
  ActionDefinition,
  ActionFailure,
  ActionFailureDetails,
  ActionProgress,
  ActionTimeouts,
  Artifact,
  LogSink,
  NotifyConfig,
  ReadOutput,
  Risk,
} from './action.ts';
export {
  artifactOf,
  DEFAULT_ACTION_TIMEOUTS,
  DEFAULT_ARTIFACT_MAX_BYTES,
  jsonArtifactOf,
} from './artifact.ts';
export { type SplitOptions, splitCommand } from './builtin/argv.ts';
export { parseDuration } from './builtin/duration.ts';
export {
  argvOf,
  type EnvEntry,
  EXEC_INPUT_SCHEMA,
  EXEC_OUTPUT_SCHEMA,
  type ExecInput,
  type ExecOutput,
  envOf,
  execAction,
  SHELL,
} from './builtin/exec.ts';
export {
  GIT_NAME_PATTERN,
  type GitInput,
  type GitOutput,
  gitPullAction,
  gitPushAction,
} from './builtin/git.ts';
export {
  DEFAULT_MESSAGE,
  NOTIFY_TIMEOUT_MS,
  type NotifyOutput,
  notifyAlertAction,
  notifySlackAction,
  notifyTeamAction,
  postJson,
  type SlackInput,
  slackBody,
  type WebhookInput,
  webhookBody,
} from './builtin/notify.ts';
export {
  type CappedLog,
  createLogFile,
  createMemoryLog,
  DEFAULT_LOG_MAX_BYTES,
  type LogFile,
  type LogOptions,
} from './log-file.ts';
export {
  abortError,
  displayArgv,
  KILL_GRACE_MS,
  type ProcessOptions,
  type ProcessResult,
  runProcess,
} from './process.ts';
export { ActionRegistry, BUILTIN_ACTIONS, compareVersions, createBuiltinRegistry } from './registry.ts';
export { type ActionInputSpec, actionFromObject, inputSchemaOf, renderCommand } from './user-action.ts';
