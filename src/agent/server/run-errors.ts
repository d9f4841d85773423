import type { ErrorCode } from '../../errors/codes.ts';

/**
 * The codes a run of an action may end with, which POST /v1/actions/execute answers under each code's status: what
 * the actions' handlers and the modules they import throw (src/actions; the data.*, service.* and chaos.* actions)
 * and how execute ends a run (its timeout, a cancel, a machine error, a bug). openapi.test.ts fails when that code
 * throws one not listed here.
 */
export const RUN_ERRORS: readonly ErrorCode[] = [
  // The target or its connector (docker, kubernetes, jvm, git, notify, the data stores).
  'DVM_TARGET_NOT_FOUND',
  'DVM_AMBIGUOUS',
  'DVM_CONNECTOR_UNAVAILABLE',
  'DVM_GIT_FAILED',
  'DVM_NOTIFY_NOT_CONFIGURED',
  'DVM_NOTIFY_FAILED',
  'DVM_DATA_INVALID',
  'DVM_DATA_VERIFY_FAILED',
  // The platform the data.*, service.* and chaos.* actions act on: its store (opened at their first run), its
  // dependency instances and live apps (their runtimes, health checks and backups).
  'DVM_INVALID',
  'DVM_USAGE',
  'DVM_KIND_UNKNOWN',
  'DVM_REF_NOT_FOUND',
  'DVM_DATA_TARGET',
  'DVM_CONFLICT',
  'DVM_STORE_TOO_NEW',
  'DVM_BACKUP_FAILED',
  'DVM_BINARY_NOT_FOUND',
  'DVM_IMAGE_UNAVAILABLE',
  'DVM_RUNTIME_SPEC',
  'DVM_RUNTIME_START',
  'DVM_PORT_IN_USE',
  'DVM_HEALTH_FAILED',
  'DVM_DEPENDENCY_INIT',
  // A command the action runs (exec, git, jvm tools).
  'DVM_EXEC_SHELL_SYNTAX',
  'DVM_EXEC_NOT_FOUND',
  'DVM_WORKDIR_NOT_FOUND',
  'DVM_TASK_FAILED',
  'DVM_SCHEMA_INVALID',
  // How the run ended: past its timeout, cancelled (or the agent stopping), a machine error, a bug.
  'DVM_TIMEOUT',
  'DVM_CANCELLED',
  'DVM_IO_ERROR',
  'DVM_STORE_UNAVAILABLE',
  'DVM_STORE_CORRUPT',
  'DVM_INTERNAL',
];
