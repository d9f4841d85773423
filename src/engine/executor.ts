import { randomBytes } from 'node:crypto';
import { LeftoverProcesses, type StoppedGroup } from '../actions/leftover-processes.ts';
import { describeStop } from '../actions/process-group.ts';
import { DvmError } from '../errors/dvm-error.ts';
import type { RunRecord, RunStatus } from '../store/runs.ts';
import { type NodeOutcome, runDag } from './dag-runner.ts';
import type { CallbackSpec, PlanNode } from './plan.ts';
import type { EngineResources } from './resources.ts';
import { resultRefsOf } from './results.ts';
import { Semaphore } from './semaphore.ts';
import { runCallback, runTask } from './task-runner.ts';

/** A sortable, unique run id: time then randomness, like `r20261122-083001-1a2b3c`. */
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `r${stamp}-${randomBytes(3).toString('hex')}`;
}

const FAILING: ReadonlySet<RunStatus> = new Set(['Failed', 'TimedOut', 'Interrupted']);

interface Execution {
  res: EngineResources;
  records: Map<PlanNode, RunRecord>;
  slots: Semaphore;
  /** Cancels the run: running tasks are stopped, those not started end Cancelled. */
  signal: AbortSignal;
  /** Stops `finally:` tasks too, which a cancel (`signal`) does not: a second cancel. */
  finalSignal: AbortSignal;
  now: () => Date;
}

function update(ex: Execution, record: RunRecord, changes: Partial<RunRecord>): void {
  Object.assign(record, changes);
  ex.res.runs.save(record);
  ex.res.listener?.({ type: 'run.updated', run: record });
}

function start(ex: Execution, record: RunRecord): number {
  update(ex, record, { status: 'Running', startedAt: ex.now().toISOString() });
  return performance.now();
}

function end(
  ex: Execution,
  record: RunRecord,
  startedMs: number | undefined,
  changes: Partial<RunRecord>,
): void {
  const durationMs = startedMs === undefined ? undefined : Math.round(performance.now() - startedMs);
  update(ex, record, { ...changes, finishedAt: ex.now().toISOString(), durationMs });
}

function createRecords(
  ex: Execution,
  node: PlanNode,
  parent: RunRecord | undefined,
  rootId: string,
  counter: { seq: number },
): void {
  const now = ex.now().toISOString();
  const record: RunRecord = {
    id: parent ? `${rootId}.${counter.seq}` : rootId,
    rootId,
    parentId: parent?.id,
    level: node.level,
    kind: node.kind,
    name: node.name,
    node: node.path,
    ecosystem: node.placement.ecosystem,
    domain: node.placement.domain,
    status: 'Pending',
    attempts: 0,
    results: {},
    createdAt: now,
    seq: counter.seq++,
  };
  if (!parent) {
    record.pid = process.pid;
    record.trigger = ex.res.trigger;
    record.commit = ex.res.commit;
    if (ex.res.options) record.options = ex.res.options;
    if (ex.res.resumedFrom) record.message = `resumes run ${ex.res.resumedFrom}`;
  }
  ex.records.set(node, record);
  ex.res.runs.save(record);
  ex.res.listener?.({ type: 'run.created', run: record });
  for (const child of node.children) createRecords(ex, child, record, rootId, counter);
}

/** The records a plan will produce, created as Pending (the live view draws them before anything runs). */
export function prepareRun(
  plan: PlanNode,
  res: EngineResources,
): { root: RunRecord; run(signal: AbortSignal, finalSignal?: AbortSignal): Promise<RunRecord> } {
  const now = res.now ?? (() => new Date());
  const leftovers = new LeftoverProcesses();
  const ex: Execution = {
    res: { ...res, leftovers },
    records: new Map(),
    slots: new Semaphore(res.parallelism),
    signal: AbortSignal.abort(),
    finalSignal: AbortSignal.abort(),
    now,
  };
  const rootId = newRunId(now());
  createRecords(ex, plan, undefined, rootId, { seq: 0 });
  const root = ex.records.get(plan) as RunRecord;
  return {
    root,
    async run(signal: AbortSignal, finalSignal = new AbortController().signal) {
      ex.signal = signal;
      ex.finalSignal = finalSignal;
      // The records (the root's owner pid above all) are on disk before any task starts: a dvm killed at once
      // leaves a run the next dvm finds Interrupted, and whose processes it stops.
      res.runs.flush();
      try {
        await runNode(ex, plan, () => undefined);
      } finally {
        noteStopped(ex, await leftovers.stopAll());
        res.runs.flush();
      }
      return root;
    },
  };
}

// Says on each task's record that the background processes it left were stopped when the run ended.
function noteStopped(ex: Execution, stopped: StoppedGroup[]): void {
  if (stopped.length === 0) return;
  const byLog = new Map(stopped.filter((s) => s.logPath).map((s) => [s.logPath, s]));
  for (const record of ex.records.values()) {
    const group = record.logPath ? byLog.get(record.logPath) : undefined;
    if (!group) continue;
    const note = `stopped the background processes it left running (process group ${group.pgid}) when the run ended: ${describeStop(group.outcome)}`;
    // Saved without an event: the task's state did not change, and views have already shown it final.
    record.message = [record.message, note].filter(Boolean).join('; ');
    ex.res.runs.save(record);
  }
}

async function runNode(
  ex: Execution,
  node: PlanNode,
  lookup: (task: string, result: string) => string | undefined,
  free?: () => void,
): Promise<RunStatus> {
  const record = ex.records.get(node) as RunRecord;
  if (node.task) {
    await ex.slots.acquire();
    // The slot goes to the next task as soon as this one's command succeeded; recording it comes after.
    let holding = true;
    const releaseSlot = () => {
      if (!holding) return;
      holding = false;
      ex.slots.release();
      free?.();
    };
    let startedMs: number | undefined;
    try {
      if (ex.signal.aborted) {
        end(ex, record, undefined, { status: 'Cancelled', reason: 'Cancelled', origin: 'user' });
        return 'Cancelled';
      }
      startedMs = start(ex, record);
      const outcome = await runTask(node, record, ex.res, lookup, ex.signal, releaseSlot);
      end(ex, record, startedMs, {
        status: outcome.status,
        reason: outcome.reason,
        origin: outcome.origin,
        message: outcome.message,
        ...(outcome.fix ? { fix: outcome.fix } : {}),
        exitCode: outcome.exitCode,
        results: outcome.results ?? {},
        attempts: outcome.attempts,
        fingerprint: outcome.fingerprint,
        cacheNote: outcome.cacheNote,
        logPath: outcome.logPath,
      });
    } catch (error) {
      end(ex, record, startedMs, {
        status: 'Failed',
        reason: 'InternalError',
        origin: 'system',
        message: (error as Error).message,
      });
    } finally {
      releaseSlot();
    }
    await callbacksFor(ex, node, record);
    return record.status;
  }
  const startedMs = start(ex, record);
  const status = await runChildren(ex, node);
  end(ex, record, startedMs, {
    status,
    reason: status === 'Succeeded' ? undefined : childReason(ex, node, status),
  });
  await callbacksFor(ex, node, record);
  return status;
}

function childReason(ex: Execution, node: PlanNode, status: RunStatus): string | undefined {
  if (status === 'Cancelled') return 'Cancelled';
  const failed = node.children
    .map((c) => ex.records.get(c) as RunRecord)
    .filter((r) => FAILING.has(r.status));
  return failed.length
    ? `${failed.length} of ${node.children.length} failed: ${failed.map((r) => r.node.split('/').pop()).join(', ')}`
    : undefined;
}

async function runChildren(ex: Execution, node: PlanNode): Promise<RunStatus> {
  const byEntry = new Map(node.children.map((c) => [c.entry, c]));
  const lookup = (task: string, result: string) => {
    const producer = byEntry.get(task);
    return producer ? ex.records.get(producer)?.results[result] : undefined;
  };
  // What a cancelled run did not start ends Cancelled, dependents of a task stopped by the cancel included.
  const skip = (at: Execution, child: PlanNode, why: string) => {
    const reason = at.signal.aborted ? 'Cancelled' : why;
    const record = ex.records.get(child) as RunRecord;
    end(ex, record, undefined, { status: reason === 'Cancelled' ? 'Cancelled' : 'Skipped', reason });
    markSkipped(ex, child, reason);
  };
  const run = async (at: Execution, child: PlanNode, free: () => void): Promise<NodeOutcome> => {
    // A task that uses a result of a task skipped by its `when` is skipped too (Tekton's rule): the result never
    // came. Tasks that only depend on it still run.
    const skipped = child.task ? skippedProducerOf(ex, child, byEntry) : undefined;
    if (skipped) {
      end(ex, ex.records.get(child) as RunRecord, undefined, {
        status: 'Skipped',
        reason: 'ResultUnavailable',
        message: `it uses a result of ${skipped}`,
      });
      return 'succeeded';
    }
    const status = await runNode(at, child, lookup, free);
    if (!FAILING.has(status) && status !== 'Cancelled') return 'succeeded';
    return child.continueOnError ? 'tolerated' : 'failed';
  };
  const dagNode = (c: PlanNode) => ({ name: c.entry, dependsOn: c.dependsOn, node: c });
  // Leaf tasks take a slot each: start no more than there are slots (nested workflows share the slots).
  const leaves = node.children.every((c) => c.children.length === 0);
  const main = node.children.filter((c) => !c.isFinally).map(dagNode);
  const outcomes = await runDag(main, {
    run: (n, free) => run(ex, n.node, free),
    skip: (n, reason) => skip(ex, n.node, reason),
    stopped: () => ex.signal.aborted,
    ...(leaves ? { limit: ex.res.parallelism } : {}),
  });
  const finals = node.children.filter((c) => c.isFinally).map(dagNode);
  if (finals.length > 0) {
    // Finally tasks run however the others ended, cancelled too (Tekton's finally, GitHub's `if: always()`): only
    // a second cancel or their own timeouts stop them.
    const final: Execution = { ...ex, signal: ex.finalSignal };
    await runDag(finals, {
      run: (n, free) => run(final, n.node, free),
      skip: (n, reason) => skip(final, n.node, reason),
      stopped: () => final.signal.aborted,
      failFast: false,
    });
  }
  if (ex.signal.aborted) return 'Cancelled';
  const failed =
    [...outcomes.values()].includes('failed') ||
    finals.some((f) => FAILING.has((ex.records.get(f.node) as RunRecord).status) && !f.node.continueOnError);
  return failed ? 'Failed' : 'Succeeded';
}

// The entry, among those whose results a task uses, that ended without its results (skipped, failed under
// continueOnError, cancelled, timed out), and how; undefined when every one succeeded (or was cached).
function skippedProducerOf(
  ex: Execution,
  child: PlanNode,
  byEntry: Map<string, PlanNode>,
): string | undefined {
  for (const use of resultRefsOf(child.task as Record<string, unknown>)) {
    const producer = byEntry.get(use.task);
    const status = producer ? ex.records.get(producer)?.status : undefined;
    if (status === 'Skipped' || status === 'Cancelled' || (status !== undefined && FAILING.has(status)))
      return `${use.task}, which ended ${status}`;
  }
  return undefined;
}

function markSkipped(ex: Execution, node: PlanNode, reason: string): void {
  for (const child of node.children) {
    const record = ex.records.get(child) as RunRecord;
    if (record.status === 'Pending')
      end(ex, record, undefined, { status: reason === 'Cancelled' ? 'Cancelled' : 'Skipped', reason });
    markSkipped(ex, child, reason);
  }
}

async function callbacksFor(ex: Execution, node: PlanNode, record: RunRecord): Promise<void> {
  const succeeded = record.status === 'Succeeded' || record.status === 'Cached';
  const failed = FAILING.has(record.status);
  const due = [
    ['onComplete', node.onComplete],
    ['onSuccess', succeeded ? node.onSuccess : undefined],
    ['onFailure', failed ? node.onFailure : undefined],
  ] as const;
  const workdir = node.task?.workdir ?? ex.res.defaultWorkdir;
  for (const [hook, given] of due) {
    if (given === undefined) continue;
    const callback = withDefaultMessage(given, node, record);
    const problem = await runCallback(
      callback,
      ex.res,
      workdir,
      AbortSignal.timeout(15_000),
      // One per record and hook: the audit's request id names the run, the task and the hook.
      `${record.id}-${hook}`,
      node.callbackActions?.[callback.action],
      // A task's callbacks act where it does: its environment's gates apply to them too.
      node.task?.environment,
    );
    if (!problem) continue;
    // The task's own outcome stays; the callback's failure (its code, and its fix after the task's own) is added,
    // named by its hook, for `dvm status run` and -o json to show.
    const fix = problem.fix ? `${hook} ${callback.action}: ${problem.fix}` : undefined;
    update(ex, record, {
      message: [record.message, `${hook} ${problem.message}`].filter(Boolean).join('; '),
      ...(fix ? { fix: [record.fix, fix].filter(Boolean).join(' ') } : {}),
    });
  }
}

// A notification that gives no message says what it is about: which object, how it ended, which run.
function withDefaultMessage(callback: CallbackSpec, node: PlanNode, record: RunRecord): CallbackSpec {
  const builtInNotify = ['notify.slack', 'notify.alert', 'notify.team'].includes(callback.action);
  if (!builtInNotify || node.callbackActions?.[callback.action] || callback.message !== undefined)
    return callback;
  if (callback.text !== undefined) return callback;
  const why = record.reason && record.reason !== record.status ? ` (${record.reason})` : '';
  const where = `${node.placement.domain ?? node.placement.ecosystem ?? ''}`;
  return {
    ...callback,
    message: `${node.kind} ${where ? `${where}/` : ''}${node.path} ${record.status}${why}: run ${record.rootId}`,
  };
}

/** Throws DVM_USAGE when a plan has nothing to run (every stage manual and none selected, say). */
export function assertRunnable(plan: PlanNode): void {
  if (!plan.task && plan.children.length === 0) {
    throw new DvmError('DVM_USAGE', `${plan.kind}/${plan.name} has nothing to run`, {
      fix: 'Its stages may all be manual: pass --include-manual or --stage NAME.',
    });
  }
}
