import { mkdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { ActionDefinition } from '../actions/action.ts';
import { splitCommand } from '../actions/builtin/argv.ts';
import { parseDuration } from '../actions/builtin/duration.ts';
import { createLogFile } from '../actions/log-file.ts';
import { actionFromObject } from '../actions/user-action.ts';
import { DvmError, isDvmError } from '../errors/dvm-error.ts';
import { BUILTIN_ACTION_NAMES } from '../model/builtin-actions.ts';
import type { RunRecord, RunStatus } from '../store/runs.ts';
import type { CallbackSpec, PlanNode } from './plan.ts';
import { retry } from './primitives/retry.ts';
import { TimeoutError, timeout } from './primitives/timeout.ts';
import type { EngineResources } from './resources.ts';
import { substituteResults, substituteResultsDeep } from './results.ts';
import { bindShellReferences } from './shell-refs.ts';
import { explainMiss, fingerprintOf, hashInputs, restoreOutputs, saveOutputs } from './task-cache.ts';
import { evaluateWhen } from './when.ts';

/** How a task ended. */
export interface TaskOutcome {
  status: RunStatus;
  reason?: string;
  origin?: 'user' | 'system';
  message?: string;
  /** What to do about a failure (its error's fix). */
  fix?: string;
  exitCode?: number;
  results?: Record<string, string>;
  attempts: number;
  fingerprint?: string;
  cacheNote?: string;
  logPath?: string;
}

/** Looks up a result of a sibling task (by entry name), for `$(tasks.NAME.results.RESULT)`. */
export type ResultLookup = (task: string, result: string) => string | undefined;

function unresolved(node: PlanNode, text: string): DvmError {
  return new DvmError(
    'DVM_RESULT_REF',
    `${node.path}: ${text} names no result of an earlier task of this workflow`,
    {
      fix: 'Reference a task entry this one depends on (dependsOn) and a result it declares and writes to $DVM_RESULTS/NAME.',
      details: { origin: 'user' },
    },
  );
}

// The value of a result reference; a missing one is DVM_RESULT_REF naming the task.
function resultValue(node: PlanNode, lookup: ResultLookup, task: string, result: string): string {
  const value = lookup(task, result);
  if (value === undefined) throw unresolved(node, `$(tasks.${task}.results.${result})`);
  return value;
}

function substitute(node: PlanNode, text: string, lookup: ResultLookup): string {
  return substituteResults(text, (task, result) => resultValue(node, lookup, task, result));
}

// A `shell:` script never has values spliced into its text: each reference becomes a quoted expansion of a
// variable (DVM_RESULT_1, …) that holds the value, passed in the environment.
function shellInput(node: PlanNode, script: string, lookup: ResultLookup): Record<string, unknown> {
  try {
    const bound = bindShellReferences(script, (task, result) => resultValue(node, lookup, task, result));
    return Object.keys(bound.env).length > 0
      ? { shell: bound.script, env: bound.env }
      : { shell: bound.script };
  } catch (error) {
    if (!isDvmError(error) || error.location.path !== 'spec.shell') throw error;
    throw new DvmError(error.code, `${node.path} spec.shell: ${error.message}`, {
      fix: error.fix,
      details: error.details,
    });
  }
}

/** Set in every task's environment to the id of its run; how dvm recognises a run's processes later. */
export const RUN_ID_VARIABLE = 'DVM_RUN_ID';

// The process environment plus DVM_RUN_ID, copied once per run: a task without env or results shares it (never
// mutated).
let runEnv: { runId: string; env: Record<string, string> } | undefined;

function envOf(
  node: PlanNode,
  lookup: ResultLookup,
  resultsDir: string | undefined,
  runId: string,
): Record<string, string> {
  if (runEnv?.runId !== runId) {
    runEnv = { runId, env: { ...(process.env as Record<string, string>), [RUN_ID_VARIABLE]: runId } };
  }
  const baseEnv = runEnv.env;
  if (!node.task?.env?.length && !resultsDir) return baseEnv;
  const env: Record<string, string> = { ...baseEnv };
  for (const e of node.task?.env ?? []) env[e.name] = substitute(node, String(e.value ?? ''), lookup);
  if (resultsDir) env.DVM_RESULTS = resultsDir;
  return env;
}

// A task's `when`: result references resolve to the results of earlier tasks, `$(env.NAME)` to the task's own
// environment (unset: empty). Values are operands, never condition text.
function whenHolds(node: PlanNode, condition: string, lookup: ResultLookup, runId: string): boolean {
  let env: Record<string, string> | undefined;
  try {
    return evaluateWhen(condition, (ref) => {
      if (ref.kind === 'env') {
        env ??= envOf(node, lookup, undefined, runId);
        return env[ref.name] ?? '';
      }
      const value = lookup(ref.task, ref.result);
      if (value === undefined) throw unresolved(node, ref.text);
      return value;
    });
  } catch (error) {
    if (!isDvmError(error) || error.code !== 'DVM_SCHEMA_INVALID') throw error;
    throw new DvmError(error.code, `${node.path} spec.when: ${error.message}`, {
      fix: error.fix,
      details: error.details,
    });
  }
}

// An error that lists its causes (every invalid input, say) keeps them in the record's message.
function messageWithCauses(error: DvmError): string {
  const causes = error.causes.map((c) => `${c.path ? `${c.path}: ` : ''}${c.message}`);
  return causes.length ? `${error.message}: ${causes.join('; ')}` : error.message;
}

function describeFailure(
  error: unknown,
): Pick<TaskOutcome, 'status' | 'reason' | 'origin' | 'message' | 'exitCode' | 'fix'> {
  if (error instanceof TimeoutError || (isDvmError(error) && error.code === 'DVM_TIMEOUT')) {
    return { status: 'TimedOut', reason: 'Timeout', origin: 'user', message: (error as Error).message };
  }
  if (isDvmError(error)) {
    const details = error.details as { exitCode?: number; origin?: 'user' | 'system' };
    if (error.code === 'DVM_CANCELLED')
      return { status: 'Cancelled', reason: 'Cancelled', origin: 'user', message: error.message };
    const reason = error.code === 'DVM_TASK_FAILED' ? 'ExitCode' : error.code;
    return {
      status: 'Failed',
      reason,
      origin: details.origin ?? 'user',
      message: messageWithCauses(error),
      exitCode: details.exitCode,
      ...(error.fix ? { fix: error.fix } : {}),
    };
  }
  return {
    status: 'Failed',
    reason: 'InternalError',
    origin: 'system',
    message: (error as Error)?.message ?? String(error),
  };
}

// The seed's built-in actions that later capabilities implement: say so, instead of "unknown action".
function actionNamed(res: EngineResources, name: string): ActionDefinition {
  if (!res.actions.has(name) && BUILTIN_ACTION_NAMES.has(name)) {
    throw new DvmError('DVM_ACTION_UNKNOWN', `action ${name} is part of the model but not implemented yet`, {
      fix: 'data.*, service.* and chaos.* arrive with the dependencies and test-data capability; use exec meanwhile.',
      details: { origin: 'user' },
    });
  }
  return res.actions.get(name);
}

/** Runs one task node: condition, cache, action with retries and timeout, results, callbacks. */
export async function runTask(
  node: PlanNode,
  record: RunRecord,
  res: EngineResources,
  lookup: ResultLookup,
  signal: AbortSignal,
  commandDone?: () => void,
): Promise<TaskOutcome> {
  const task = node.task ?? {};
  // A resumed run reuses what succeeded, except finally tasks: cleanup runs again after what ran again.
  const previous = node.isFinally ? undefined : res.resume?.get(node.path);
  if (previous && (previous.status === 'Succeeded' || previous.status === 'Cached')) {
    return {
      status: 'Cached',
      reason: 'Resumed',
      results: previous.results,
      attempts: 0,
      cacheNote: `reused from run ${previous.rootId}`,
    };
  }
  try {
    if (task.when !== undefined && !whenHolds(node, task.when, lookup, record.rootId)) {
      return {
        status: 'Skipped',
        reason: 'WhenFalse',
        message: `condition ${task.when} is false`,
        attempts: 0,
      };
    }
    const userSpec = node.userAction?.spec as Record<string, unknown> | undefined;
    const templated = node.userAction && userSpec?.handlers && !userSpec.command && res.templateAction;
    const definition: ActionDefinition =
      templated && node.userAction && res.templateAction
        ? res.templateAction(node.userAction.name, userSpec ?? {})
        : node.userAction
          ? actionFromObject({
              apiVersion: 'devopsmaestro.io/v1',
              kind: 'Action',
              metadata: { name: node.userAction.name },
              spec: node.userAction.spec,
            })
          : actionNamed(res, task.action ?? 'exec');
    const workdirSpec = task.workdir ?? res.defaultWorkdir;
    const workdir = isAbsolute(workdirSpec) ? workdirSpec : resolve(res.defaultWorkdir, workdirSpec);
    const runDir = join(res.runsDir, record.rootId);
    const resultsDir = task.results?.length ? join(runDir, 'results', record.id) : undefined;
    if (resultsDir) await mkdir(resultsDir, { recursive: true });
    const env = envOf(node, lookup, resultsDir, record.rootId);
    const input = actionInput(node, lookup);
    res.actions.validateInput(definition, input);

    let fingerprint: string | undefined;
    let cacheNote: string | undefined;
    let inputHashes: Record<string, string> = {};
    const cacheable = Boolean(task.inputs?.length || task.outputs?.length);
    if (cacheable) {
      inputHashes = await hashInputs(workdir, task.inputs ?? []);
      // The task's own variables after substitution: an upstream result passed through `env:` counts.
      const taskEnv = Object.fromEntries((task.env ?? []).map((e) => [e.name, env[e.name] ?? '']));
      fingerprint = fingerprintOf({
        action: `${definition.name}@${definition.version}`,
        input,
        env: taskEnv,
        inputs: inputHashes,
        outputs: task.outputs ?? [],
        results: task.results ?? [],
      });
      const hit = res.noCache ? undefined : res.runs.cacheGet(fingerprint);
      if (hit) {
        await restoreOutputs(hit, workdir);
        return {
          status: 'Cached',
          reason: 'FingerprintMatch',
          results: hit.results,
          attempts: 0,
          fingerprint,
          cacheNote: `reused results of run ${hit.runId}`,
        };
      }
      const taskKey = `${node.kind}/${node.placement.ecosystem}/${node.placement.domain}/${node.name}`;
      cacheNote = res.noCache
        ? 'cache disabled (--no-cache)'
        : explainMiss(res.runs.lastInputs(taskKey), inputHashes);
      res.runs.setLastInputs(taskKey, inputHashes);
    }

    const log = createLogFile(join(runDir, 'logs', `${record.id}.log`));
    // Recorded before the command starts, so `dvm logs -f` follows the output as it comes.
    record.logPath = log.path;
    res.runs.save(record);
    let attempts = 0;
    const limitMs = task.timeout ? parseDuration(task.timeout) : undefined;
    // exec is the task's own command; other built-ins (git, notify, docker, k8s, …) go through the agent's path.
    const viaAgent = res.invoke !== undefined && !node.userAction && definition.name !== 'exec';
    const attempt = (attemptSignal: AbortSignal) => {
      attempts++;
      const context = {
        signal: attemptSignal,
        workdir,
        env,
        log,
        resultsDir: resultsDir ?? runDir,
        notify: res.notify,
        ...(res.leftovers ? { leftovers: res.leftovers } : {}),
        // The record names the process group while it runs: if dvm dies, the next dvm stops it (reapInterrupted).
        onSpawn: (pid: number) => {
          record.pgid = pid;
          res.runs.save(record);
        },
        ...(commandDone ? { onSucceeded: commandDone } : {}),
      };
      return viaAgent && res.invoke
        ? res.invoke(definition, input, context, `${record.id}-${attempts}`, task.environment)
        : definition.handler(input, context);
    };
    // The attempt's process group must be gone before the task counts as timed out (and before a retry starts).
    const step = limitMs ? timeout(attempt, limitMs, { waitForStep: true }) : attempt;
    let output: unknown;
    try {
      output = await retry(step, {
        retries: task.retries ?? 0,
        baseDelayMs: 200,
        maxDelayMs: 10_000,
        retryable: (error: unknown) =>
          !(
            isDvmError(error) &&
            (error.code === 'DVM_CANCELLED' ||
              error.code === 'DVM_EXEC_NOT_FOUND' ||
              error.code === 'DVM_WORKDIR_NOT_FOUND')
          ) && !signal.aborted,
      })(signal);
    } catch (error) {
      await log.close();
      return {
        ...describeFailure(
          signal.aborted && !(error instanceof TimeoutError) ? (signal.reason ?? error) : error,
        ),
        attempts,
        fingerprint,
        cacheNote,
        logPath: log.path,
      };
    }
    // What a non-exec action returned goes to the task log, and its top-level scalars become results
    // (chaos.kill's recoveredInMs, data.backup's file), usable later as $(tasks.NAME.results.KEY).
    const builtIn = definition.name !== 'exec' && !node.userAction;
    const returned = builtIn ? actionResults(output) : {};
    if (builtIn && output !== undefined) log.write('stdout', `${JSON.stringify(output, null, 2)}\n`);
    await log.close();
    const results = {
      ...returned,
      ...(resultsDir ? await readResults(resultsDir, task.results ?? []) : {}),
    };
    if (cacheable && fingerprint) {
      const outputsDir = task.outputs?.length ? join(res.cacheDir, fingerprint) : undefined;
      if (outputsDir) await saveOutputs(workdir, task.outputs ?? [], outputsDir);
      res.runs.cachePut({
        fingerprint,
        runId: record.rootId,
        results,
        outputsDir,
        inputs: inputHashes,
        createdAt: new Date().toISOString(),
      });
    }
    return { status: 'Succeeded', exitCode: 0, results, attempts, fingerprint, cacheNote, logPath: log.path };
  } catch (error) {
    return { ...describeFailure(error), attempts: 0 };
  }
}

function actionInput(node: PlanNode, lookup: ResultLookup): Record<string, unknown> {
  const task = node.task ?? {};
  const action = task.action ?? 'exec';
  if (action === 'exec' && !node.userAction) {
    if (task.shell !== undefined) return shellInput(node, task.shell, lookup);
    const argv = typeof task.command === 'string' ? splitCommand(task.command) : (task.command ?? []);
    return { command: argv.map((arg) => substitute(node, String(arg), lookup)) };
  }
  // Results flow into an action's params as whole string values (a copy: the plan is shared by attempts).
  const params = substituteResultsDeep(task.params ?? {}, (text) => substitute(node, text, lookup));
  if (task.target !== undefined && params.target === undefined) params.target = task.target;
  return params;
}

// The top-level string, number and boolean fields of an action's output (and of its summary), as strings.
function actionResults(output: unknown): Record<string, string> {
  if (!output || typeof output !== 'object' || Array.isArray(output)) return {};
  const out: Record<string, string> = {};
  // A read action's fields are in its summary.
  const summary = (output as { summary?: unknown }).summary;
  const fields = {
    ...(summary && typeof summary === 'object' && !Array.isArray(summary) ? summary : {}),
    ...output,
  };
  for (const [key, value] of Object.entries(fields)) {
    if (/^[A-Za-z][A-Za-z0-9_-]*$/.test(key) && ['string', 'number', 'boolean'].includes(typeof value))
      out[key] = String(value);
  }
  return out;
}

/**
 * The largest result a task may write: results live in run records and travel in argv and the environment, where
 * Linux takes at most 128 KiB per string.
 */
export const MAX_RESULT_BYTES = 100 * 1024;

async function readResults(dir: string, declared: { name: string }[]): Promise<Record<string, string>> {
  const results: Record<string, string> = {};
  for (const { name } of declared) {
    const file = join(dir, name);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      continue; // Not written: references to it fail with DVM_RESULT_REF where they are used.
    }
    if (size > MAX_RESULT_BYTES) {
      throw new DvmError(
        'DVM_RESULT_TOO_LARGE',
        `result "${name}" is ${size} bytes, over the 100 KiB results may be`,
        {
          fix: 'Write large data to a file (an `outputs:` entry) and make the result its path.',
          details: { origin: 'user', result: name, bytes: size, maxBytes: MAX_RESULT_BYTES },
        },
      );
    }
    results[name] = (await readFile(file, 'utf8')).replace(/\n$/, '');
  }
  return results;
}

const CALLBACK_COMMAND_FIX =
  'A callback keeps no log of what its command printed: run the command by hand to see it, or make the step a task (dvm logs run ID shows its output).';

/** Why a callback failed, as its task's record keeps it: the message (with the error's code) and the fix. */
export interface CallbackProblem {
  /** Like `notify.alert failed: DVM_NOTIFY_FAILED: …`; the code is left out of an error that has none. */
  message: string;
  /** The error's code (DVM_…), when it has one. */
  code?: string;
  /** What to do about it: the error's fix, when it has one. */
  fix?: string;
}

/**
 * Runs a callback (onSuccess, onFailure, onComplete) action; its failure is reported, not fatal. Through the agent
 * its request id is `requestId`, which names the task's record and the hook, so its audit entries lead to the run.
 */
export async function runCallback(
  callback: CallbackSpec,
  res: EngineResources,
  workdir: string,
  signal: AbortSignal,
  requestId: string,
  userActionSpec?: Record<string, unknown>,
  environment?: string,
): Promise<CallbackProblem | undefined> {
  try {
    const { action, ...params } = callback;
    const definition: ActionDefinition = userActionSpec
      ? (actionFromObject({
          apiVersion: 'devopsmaestro.io/v1',
          kind: 'Action',
          metadata: { name: action },
          spec: userActionSpec,
        }) as ActionDefinition)
      : res.actions.get(action);
    const input = res.actions.validateInput(definition, params);
    const noLog = { write: () => undefined };
    const context = {
      signal,
      workdir,
      env: process.env as Record<string, string>,
      log: noLog,
      resultsDir: workdir,
      notify: res.notify,
      ...(res.leftovers ? { leftovers: res.leftovers } : {}),
    };
    if (res.invoke && action !== 'exec' && !userActionSpec)
      await res.invoke(definition, input, context, requestId, environment, true);
    else await definition.handler(input, context);
    return undefined;
  } catch (error) {
    // Kept as a task's own failure is: its code and fix too, not only its message.
    if (!isDvmError(error))
      return { message: `${callback.action} failed: ${(error as Error)?.message ?? String(error)}` };
    // A command's fix points at its log, which a callback does not keep.
    const fix = error.code === 'DVM_TASK_FAILED' ? CALLBACK_COMMAND_FIX : error.fix;
    return {
      message: `${callback.action} failed: ${error.code}: ${messageWithCauses(error)}`,
      code: error.code,
      ...(fix ? { fix } : {}),
    };
  }
}
