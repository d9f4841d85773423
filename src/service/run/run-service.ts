import { homedir } from 'node:os';
import { join } from 'node:path';
import type { NotifyConfig } from '../../actions/action.ts';
import { createBuiltinRegistry } from '../../actions/registry.ts';
import type { Agent } from '../../agent/agent.ts';
import type { EngineListener } from '../../engine/events.ts';
import { assertRunnable, prepareRun } from '../../engine/executor.ts';
import type { PlanNode } from '../../engine/plan.ts';
import type { EngineResources } from '../../engine/resources.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import { FINAL_STATUSES, type RunOptions, type RunRecord, type RunStore } from '../../store/runs.ts';
import type { StoredObject } from '../../store/store.ts';
import { readHomeConfig } from '../home-config.ts';
import { resolveJobApp } from '../jobs/job-app.ts';
import { readTriggers } from '../jobs/triggers.ts';
import type { Platform } from '../platform.ts';
import { findObject } from '../query.ts';
import { PlanBuilder, type StageSelection } from './build-plan.ts';
import { watchCancelRequests } from './cancel-requests.ts';
import { stopOrphanedTasks } from './orphaned-tasks.ts';

/** What to run and how. */
export interface RunRequest extends StageSelection {
  kind: string;
  name: string;
  scope: Placement;
  parallelism?: number;
  noCache?: boolean;
  /** Id of an earlier run whose successful tasks are reused. */
  resume?: string;
  trigger?: string;
  commit?: string;
  cwd: string;
  listener?: EngineListener;
  /**
   * The agent that runs the run's action tasks when the process already has one open (`dvm serve`: then the API
   * sees and cancels them); without it, one is opened for the run and closed after it.
   */
  agent?: () => Promise<Agent>;
  /** `dvm run --yes`: confirm the gates of its action tasks that ask the requester (never a second principal's). */
  confirm?: boolean;
}

/** A prepared run: its plan and root record (all Pending), and the function that executes it. */
export interface PreparedRun {
  plan: PlanNode;
  root: RunRecord;
  /** Runs it: `signal` cancels (finally tasks still run), `finalSignal` stops the finally tasks too. */
  execute(signal: AbortSignal, finalSignal?: AbortSignal): Promise<RunRecord>;
}

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks runs whose owning process died (killed, crashed, machine rebooted) as Interrupted, with every
 * unfinished record below them. Called before anything reads or starts runs.
 */
export async function reapInterrupted(runs: RunStore, now = new Date()): Promise<RunRecord[]> {
  const reaped: RunRecord[] = [];
  for (const root of runs.active()) {
    if (root.pid === process.pid || isAlive(root.pid)) continue;
    const tree = runs.tree(root.id);
    // The commands its tasks started (running ones, and what finished ones left in the background) outlive it:
    // stop them before anyone resumes the run.
    const stopped = await stopOrphanedTasks(root.id);
    const recorded = new Set(tree.filter((r) => r.level === 'task').map((r) => r.pgid));
    const unrecorded = [...stopped].filter(([pgid]) => !recorded.has(pgid));
    for (const record of tree) {
      const how = record.level === 'task' && record.pgid ? stopped.get(record.pgid) : undefined;
      const notes = [
        how && `stopped the task's processes (process group ${record.pgid}): ${how}`,
        // Groups of tasks that started just before the kill, before their group was recorded.
        record.id === root.id &&
          unrecorded.length > 0 &&
          `stopped the processes of tasks whose process group was not recorded yet: ${unrecorded
            .map(([pgid, outcome]) => `group ${pgid} (${outcome})`)
            .join(', ')}`,
      ].filter((n): n is string => typeof n === 'string');
      const note = notes.length ? notes.join('; ') : undefined;
      if (FINAL_STATUSES.has(record.status)) {
        if (note) runs.save({ ...record, message: [record.message, note].filter(Boolean).join('; ') });
        continue;
      }
      runs.save({
        ...record,
        status: 'Interrupted',
        reason: 'Interrupted',
        origin: 'system',
        message: [`dvm process ${root.pid} ended before the run finished`, note].filter(Boolean).join('; '),
        finishedAt: now.toISOString(),
      });
    }
    reaped.push(root);
  }
  runs.flush();
  return reaped;
}

/**
 * The error for an id `dvm cancel run` or `dvm run --resume` cannot take: no record has it, or it is a record inside
 * a run (a stage, a task), which names the run to use instead.
 */
export function notARun(record: RunRecord | undefined, id: string, verb: 'cancel' | 'resume'): DvmError {
  if (!record) {
    return verb === 'cancel'
      ? new DvmError('DVM_RUN_NOT_FOUND', `no run "${id}"`, { fix: 'Run `dvm get runs` to list runs.' })
      : new DvmError('DVM_RUN_NOT_FOUND', `no run "${id}" to resume`, {
          fix: 'Pick a run id from `dvm get runs`.',
        });
  }
  return new DvmError(
    'DVM_RUN_NOT_FOUND',
    `${id} is ${record.level} ${record.node} of run ${record.rootId}, not a run`,
    {
      fix:
        verb === 'cancel'
          ? `Cancel the whole run: dvm cancel run ${record.rootId}.`
          : `Resume the whole run (only what did not succeed runs again): dvm run --resume ${record.rootId}.`,
    },
  );
}

/** Notification URLs from `$DVM_HOME/config.yaml` (`notify: {slack: {url}, alert: {url}, team: {url}}`), overridable by env. */
export async function loadNotifyConfig(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NotifyConfig> {
  const notify: NotifyConfig = { ...(((await readHomeConfig(home)).notify ?? {}) as NotifyConfig) };
  for (const target of ['slack', 'alert', 'team'] as const) {
    const url = env[`DVM_NOTIFY_${target.toUpperCase()}_URL`];
    if (url) notify[target] = { url };
  }
  return notify;
}

/**
 * Where tasks without a workdir run: the path of a Job's App (`spec.app`, or for a commit trigger the domain's only
 * App, as `dvm serve` resolves it), else of the App selected with -a or `dvm use app`, else the current directory.
 */
async function defaultWorkdir(
  platform: Platform,
  plan: PlanNode,
  scope: Placement,
  cwd: string,
): Promise<string> {
  if (plan.kind === 'Job') {
    // The same App `dvm serve` runs the job in: spec.app, or the domain's only App for a commit trigger.
    const job = await platform.store.get('Job', plan.placement, plan.name);
    const jobApp = job
      ? await resolveJobApp(
          platform,
          job,
          readTriggers((job.effective.spec ?? {}) as Record<string, unknown>).commit,
        )
      : undefined;
    if (jobApp?.path) return jobApp.path;
  }
  let app: StoredObject | undefined;
  if (scope.app) app = await findObject(platform.store, platform.kinds.require('App'), scope.app, scope);
  const path = (app?.effective.spec as { path?: string } | undefined)?.path;
  return path ? path.replace(/^~(?=$|\/)/, homedir()) : cwd;
}

// How the request asks for its run, as the root record keeps it.
function optionsOf(request: RunRequest): RunOptions {
  const { stages, includeManual, parallelism, noCache } = request;
  return {
    ...(stages?.length ? { stages } : {}),
    ...(includeManual ? { includeManual } : {}),
    ...(request.scope.app ? { app: request.scope.app } : {}),
    ...(parallelism !== undefined ? { parallelism } : {}),
    ...(noCache ? { noCache } : {}),
  };
}

// A resumed run is asked for as the earlier one was (same stages, App and working directory); --stage and
// --parallelism given again replace the earlier ones, --include-manual and --no-cache add to them.
function resumedOptions(previous: RunOptions, request: RunRequest): RunOptions {
  const given = optionsOf({ ...request, scope: {} });
  return {
    ...previous,
    ...given,
    ...(previous.includeManual || given.includeManual ? { includeManual: true } : {}),
    ...(previous.noCache || given.noCache ? { noCache: true } : {}),
  };
}

/** Plans a run of a Task, Workflow, Pipeline, Orchestration or Job and creates its Pending records. */
export async function prepare(platform: Platform, request: RunRequest): Promise<PreparedRun> {
  await reapInterrupted(platform.runs);
  let resume: Map<string, RunRecord> | undefined;
  let { kind, name, scope } = request;
  let options = optionsOf(request);
  // What fired the run and at which commit: a resume keeps the earlier run's (as a re-run on GitHub keeps its
  // event and sha); its message says which run it resumes.
  let trigger = request.trigger ?? 'manual';
  let commit = request.commit;
  if (request.resume) {
    const previous = platform.runs.get(request.resume);
    if (!previous || previous.parentId) throw notARun(previous, request.resume, 'resume');
    if (!FINAL_STATUSES.has(previous.status)) {
      throw new DvmError('DVM_CONFLICT', `run ${previous.id} is still ${previous.status}`, {
        fix: 'Wait for it, or cancel it with `dvm cancel run ID`.',
      });
    }
    // `dvm run KIND NAME --resume ID` must name what the run ran: anything else would be ignored.
    if (request.kind && request.name) {
      const asked = platform.kinds.require(request.kind).kind;
      if (asked !== previous.kind || request.name !== previous.name) {
        throw new DvmError(
          'DVM_USAGE',
          `run ${previous.id} ran ${previous.kind.toLowerCase()}/${previous.name}, not ${asked.toLowerCase()}/${request.name}`,
          {
            fix: `Leave out KIND NAME (dvm run --resume ${previous.id}), or run ${asked.toLowerCase()}/${request.name} without --resume.`,
          },
        );
      }
    }
    resume = new Map(platform.runs.tree(previous.id).map((r) => [r.node, r]));
    kind = previous.kind;
    name = previous.name;
    scope = { ecosystem: previous.ecosystem, domain: previous.domain };
    options = resumedOptions(previous.options ?? {}, request);
    trigger = request.trigger ?? previous.trigger ?? trigger;
    commit = request.commit ?? previous.commit;
  }
  const plan = await new PlanBuilder(platform, options).forObject(kind, name, scope);
  assertRunnable(plan);
  options.workdir ??= await defaultWorkdir(platform, plan, request.scope, request.cwd);
  const resources: EngineResources = {
    runs: platform.runs,
    ...(await dataSupport(plan, platform.home)),
    runsDir: join(platform.home, 'runs'),
    cacheDir: join(platform.home, 'cache'),
    notify: await loadNotifyConfig(platform.home),
    defaultWorkdir: options.workdir,
    parallelism: options.parallelism ?? (await import('node:os')).availableParallelism(),
    noCache: options.noCache,
    options,
    resume,
    resumedFrom: request.resume,
    trigger,
    commit,
    listener: request.listener,
  };
  // Opened on the first task that needs it: a run of exec tasks never loads the agent. One the process shares
  // (request.agent) stays open after the run.
  let agent: Promise<Agent> | undefined;
  const ownAgent = request.agent === undefined;
  // Action tasks act as the local user in their task's environment (pipeline when it names none: no gate).
  resources.invoke = async (definition, input, context, requestId, environment, callback) => {
    agent ??=
      request.agent?.() ?? import('../../agent/agent.ts').then(({ openAgent }) => openAgent(platform.home));
    const { invokeThroughAgent } = await import('./agent-invoke.ts');
    return invokeThroughAgent(await agent, definition, input, context, requestId, {
      ...(environment ? { environment } : {}),
      ...(request.confirm ? { confirm: true } : {}),
      ...(callback ? { callback: true } : {}),
    });
  };
  const { root, run } = prepareRun(plan, resources);
  return {
    plan,
    root,
    // The run also ends Cancelled when `dvm cancel run ID` leaves a request (polled while it runs), so one run of
    // a long-lived process such as `dvm serve` can be cancelled without stopping the process; a second request
    // stops its finally tasks too, as does `finalSignal`.
    async execute(signal, finalSignal) {
      const requests = watchCancelRequests(platform.home, root.id);
      try {
        return await run(
          AbortSignal.any([signal, requests.signal]),
          AbortSignal.any([finalSignal ?? new AbortController().signal, requests.finalSignal]),
        );
      } finally {
        requests.close();
        if (agent && ownAgent) await (await agent.catch(() => undefined))?.close();
      }
    },
  };
}

// True when some task of the plan uses a data.*, service.* or chaos.* action or a user Action with handlers (templates).
function usesData(node: PlanNode): boolean {
  const action = node.task?.action ?? '';
  const spec = node.userAction?.spec as Record<string, unknown> | undefined;
  const callbacks = [node.task?.onSuccess, node.task?.onFailure].map(
    (c) => (c as { action?: string } | undefined)?.action ?? '',
  );
  const platformAction = (a: string) => /^(data|service|chaos)\./.test(a);
  if (platformAction(action) || spec?.handlers || callbacks.some(platformAction)) return true;
  return node.children.some(usesData);
}

// The built-in actions, plus (only when the plan needs them: they are modules a plain run should not load) the
// data.* actions on this home's DataStores and the template handlers of user Actions.
async function dataSupport(
  plan: PlanNode,
  home: string,
): Promise<Pick<EngineResources, 'actions' | 'templateAction'>> {
  const registry = createBuiltinRegistry();
  if (!usesData(plan)) return { actions: registry };
  const [{ dataActions }, { liveActions }, { templateActionFromObject }] = await Promise.all([
    import('../data/actions.ts'),
    import('../live/actions.ts'),
    import('../data/template-action.ts'),
  ]);
  for (const definition of [...dataActions(home), ...liveActions(home)]) registry.register(definition);
  return { actions: registry, templateAction: (name, spec) => templateActionFromObject(home, name, spec) };
}
