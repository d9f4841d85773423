import { Cron } from 'croner';
import type { Agent } from '../../agent/agent.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { objectKey, type Placement, placementLabel } from '../../model/api.ts';
import type { StoredObject } from '../../store/store.ts';
import type { Platform } from '../platform.ts';
import { prepare, reapInterrupted } from '../run/run-service.ts';
import type { Fired, SchedulerEvent, SchedulerListener } from './events.ts';
import { HeadWatcher } from './git-head.ts';
import { type JobApp, noRepository, resolveJobApp } from './job-app.ts';
import {
  type ConcurrencyPolicy,
  concurrencyOf,
  DEFAULT_CONCURRENCY,
  dropQueued,
  idle,
  type JobRunState,
  onRunEnded,
  onTrigger,
} from './policy.ts';
import { CRON_MODE, cronProblem, readTriggers } from './triggers.ts';

/** Default time between two reads of the store for applied, changed or deleted Jobs. */
export const RELOAD_INTERVAL_MS = 2000;

/** Options of the job scheduler. */
export interface SchedulerOptions {
  /** How often a watched repository's HEAD is read. */
  pollIntervalMs: number;
  /** How often the store is checked for applied, changed or deleted Jobs (default RELOAD_INTERVAL_MS). */
  reloadIntervalMs?: number;
  /** Serve only the Jobs inside this ecosystem/domain; default every Job. */
  scope?: Placement;
  /** Working directory of runs whose Job has no App. */
  cwd: string;
  listener: SchedulerListener;
  /** The agent the runs' action tasks use (`dvm serve`'s, which its API shares); default one per run. */
  agent?: () => Promise<Agent>;
}

/** What the scheduler runs: a Job, or a Task with `spec.schedule`. */
type Scheduled = 'job' | 'task';

/** A Job (or a Task with spec.schedule) as the scheduler wants it armed. */
interface Wanted {
  key: string;
  kind: Scheduled;
  /** Its kind and place in the events and log lines, like `job lab/ci/nightly` or `task lab/ci/backup`. */
  label: string;
  name: string;
  placement: Placement;
  concurrency: ConcurrencyPolicy;
  manual: boolean;
  schedule?: string;
  commit: boolean;
  app?: JobApp;
  problems: DvmError[];
  /** Everything arming depends on; when it changes the job is re-armed. */
  config: string;
}

/** A Job as armed: its cron and repository watcher. */
interface Armed extends Wanted {
  cron?: Cron;
  watcher?: HeadWatcher;
}

/** The runs of one Job: its policy state and its active run. */
interface JobRuns {
  state: JobRunState<Fired>;
  controller?: AbortController;
  runId?: string;
  done?: Promise<void>;
}

function asDvmError(error: unknown): DvmError {
  if (isDvmError(error)) return error;
  return new DvmError('DVM_INTERNAL', (error as Error)?.message ?? String(error), {
    fix: 'This is a bug in dvm; please report it with the serve log.',
  });
}

/**
 * Arms every Job of the store — a cron schedule, a git repository polled for new commits, or nothing for
 * manual jobs — and every Task with `spec.schedule` (its cron, under a Job's default concurrency), and starts
 * their runs under each one's concurrency policy. The store is re-read every few seconds, so applied, changed and
 * deleted Jobs and Tasks take effect while it runs.
 */
export class JobScheduler {
  private readonly platform: Platform;
  private readonly options: SchedulerOptions;
  private readonly armed = new Map<string, Armed>();
  private readonly jobRuns = new Map<string, JobRuns>();
  private fingerprint: string | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private lastReloadError: string | undefined;
  private stopped = false;

  constructor(platform: Platform, options: SchedulerOptions) {
    this.platform = platform;
    this.options = options;
  }

  /** Number of Jobs the scheduler knows (armed, manual or in error). */
  get size(): number {
    return this.count('job');
  }

  /** Number of Tasks with spec.schedule the scheduler knows (armed or in error). */
  get scheduledTasks(): number {
    return this.count('task');
  }

  private count(kind: Scheduled): number {
    return [...this.armed.values()].filter((a) => a.kind === kind).length;
  }

  /** Loads and arms the Jobs, then keeps re-reading the store. */
  async start(): Promise<void> {
    // The runs of a serve that was killed: their commands keep running until some dvm stops them, which
    // should not wait for the next trigger or command.
    try {
      for (const root of await reapInterrupted(this.platform.runs)) {
        const where = placementLabel({ ecosystem: root.ecosystem, domain: root.domain });
        this.emit({
          type: 'run.interrupted',
          run: root.id,
          what: `${root.kind.toLowerCase()} ${where ? `${where}/` : ''}${root.name}`,
          pid: root.pid,
        });
      }
    } catch (error) {
      this.emit({ type: 'error', error: asDvmError(error) });
    }
    this.reloading = this.reload();
    await this.reloading;
    this.reloading = undefined;
    this.scheduleReload();
  }

  /** Stops every trigger, cancels the active runs (they end Cancelled) and waits for them to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    await this.reloading;
    for (const job of this.armed.values()) this.disarm(job);
    const reason = new DvmError('DVM_CANCELLED', 'dvm serve stopped', {
      fix: 'Start dvm serve again (the next trigger runs it), or run it by hand: dvm run job NAME (dvm run task NAME for a Task with spec.schedule).',
    });
    for (const [key, runs] of this.jobRuns) {
      runs.state = dropQueued(runs.state);
      if (!runs.controller) continue;
      this.emit({
        type: 'run.cancelling',
        job: this.labelOf(key),
        run: runs.runId,
        reason: 'dvm serve stopped',
      });
      runs.controller.abort(reason);
    }
    await Promise.all([...this.jobRuns.values()].map((r) => r.done));
    this.platform.runs.flush();
  }

  /** The ids of the runs going now (for a second stop signal, which kills their processes). */
  activeRunIds(): string[] {
    return [...this.jobRuns.values()].map((r) => r.runId).filter((id): id is string => id !== undefined);
  }

  private emit(event: SchedulerEvent): void {
    this.options.listener(event);
  }

  private labelOf(key: string): string {
    return this.armed.get(key)?.label ?? key;
  }

  private scheduleReload(): void {
    if (this.stopped) return;
    this.reloadTimer = setTimeout(() => {
      this.reloading = this.reload().finally(() => {
        this.reloading = undefined;
        this.scheduleReload();
      });
    }, this.options.reloadIntervalMs ?? RELOAD_INTERVAL_MS);
  }

  private async reload(): Promise<void> {
    try {
      const fingerprint = await this.platform.store.fingerprint();
      if (fingerprint === this.fingerprint) return;
      const scope = this.options.scope ?? {};
      const placement = { ecosystem: scope.ecosystem, domain: scope.domain };
      const wanted = new Map<string, Wanted>();
      for (const job of await this.platform.store.list({ kinds: ['Job'], placement })) {
        const want = await this.want(job);
        wanted.set(want.key, want);
      }
      // A Task runs by itself when it has a schedule; one whose schedule was removed is disarmed as unscheduled.
      const tasks = new Set<string>();
      for (const task of await this.platform.store.list({ kinds: ['Task'], placement })) {
        const schedule = (task.effective.spec as { schedule?: unknown } | undefined)?.schedule;
        const key = objectKey('Task', task.placement, task.name);
        tasks.add(key);
        if (typeof schedule === 'string') wanted.set(key, wantTask(task, key, schedule));
      }
      for (const [key, job] of this.armed) {
        if (wanted.has(key) || this.stopped) continue;
        this.disarm(job);
        this.armed.delete(key);
        const runs = this.jobRuns.get(key);
        if (runs) runs.state = dropQueued(runs.state);
        this.emit({
          type: 'job.disarmed',
          job: job.label,
          reason: tasks.has(key) ? 'unscheduled' : 'deleted',
        });
      }
      for (const want of wanted.values()) {
        const current = this.armed.get(want.key);
        if (this.stopped || current?.config === want.config) continue;
        if (current) {
          this.disarm(current);
          this.emit({ type: 'job.disarmed', job: current.label, reason: 'changed' });
        }
        await this.arm(want, current);
      }
      this.fingerprint = fingerprint;
      this.lastReloadError = undefined;
    } catch (error) {
      const problem = asDvmError(error);
      if (problem.message !== this.lastReloadError) this.emit({ type: 'error', error: problem });
      this.lastReloadError = problem.message;
    }
  }

  private async want(job: StoredObject): Promise<Wanted> {
    const spec = (job.effective.spec ?? {}) as Record<string, unknown>;
    const triggers = readTriggers(spec);
    const problems = [...triggers.problems];
    let app: JobApp | undefined;
    if (!triggers.manual) {
      try {
        app = await resolveJobApp(this.platform, job, triggers.commit);
      } catch (error) {
        problems.push(asDvmError(error));
      }
    }
    if (triggers.commit && app && !app.path) problems.push(noRepository(app.name));
    const want = {
      key: objectKey('Job', job.placement, job.name),
      kind: 'job' as const,
      label: `job ${placementLabel(job.placement)}/${job.name}`,
      name: job.name,
      placement: job.placement,
      concurrency: concurrencyOf(spec.concurrency),
      manual: triggers.manual,
      schedule: triggers.schedule,
      commit: triggers.commit,
      app,
      problems,
    };
    const config = JSON.stringify({ ...want, problems: problems.map((p) => `${p.code} ${p.message}`) });
    return { ...want, config };
  }

  private async arm(want: Wanted, previous?: Armed): Promise<void> {
    const job: Armed = { ...want };
    this.armed.set(job.key, job);
    // A job with a problem is not armed at all: half a trigger would run it at surprising times.
    if (job.problems.length > 0) {
      for (const error of job.problems) this.emit({ type: 'error', job: job.label, error });
      return;
    }
    if (job.manual) {
      this.emit({ type: 'job.manual', job: job.label });
      return;
    }
    let head: string | null | undefined;
    if (job.commit && job.app?.path) {
      job.watcher = new HeadWatcher(
        job.app.path,
        this.options.pollIntervalMs,
        {
          onCommit: (sha) => this.fire(job.key, { trigger: 'commit', commit: sha }),
          onError: (error) => this.emit({ type: 'error', job: job.label, error }),
        },
        // A job re-armed on the same repository keeps the HEAD it had seen, so no commit falls in between.
        previous?.app?.path === job.app.path ? previous.watcher?.current : undefined,
      );
      head = await job.watcher.start();
    }
    if (this.stopped || this.armed.get(job.key) !== job) {
      this.disarm(job);
      return;
    }
    if (job.schedule) {
      job.cron = new Cron(job.schedule, { mode: CRON_MODE }, () =>
        this.fire(job.key, { trigger: 'schedule' }),
      );
    }
    this.emit({
      type: 'job.armed',
      job: job.label,
      concurrency: job.concurrency,
      schedule: job.schedule,
      repo: job.watcher ? job.app?.path : undefined,
      head,
    });
  }

  private disarm(job: Armed): void {
    job.cron?.stop();
    job.watcher?.stop();
  }

  private fire(key: string, fired: Fired): void {
    const job = this.armed.get(key);
    if (this.stopped || !job) return;
    this.emit({ type: 'trigger.fired', job: job.label, fired });
    let runs = this.jobRuns.get(key);
    if (!runs) {
      runs = { state: idle() };
      this.jobRuns.set(key, runs);
    }
    const { decision, state } = onTrigger(job.concurrency, runs.state, fired);
    runs.state = state;
    switch (decision) {
      case 'start':
        this.startRun(job, runs, fired);
        return;
      case 'skip':
        this.emit({ type: 'trigger.skipped', job: job.label, fired, activeRun: runs.runId });
        return;
      case 'queue':
      case 'coalesce':
        this.emit({
          type: 'trigger.queued',
          job: job.label,
          fired,
          activeRun: runs.runId,
          coalesced: decision === 'coalesce',
        });
        return;
      case 'cancel': {
        const reason = 'a newer trigger replaces it (concurrency: cancel-previous)';
        this.emit({ type: 'run.cancelling', job: job.label, run: runs.runId, reason });
        runs.controller?.abort(
          new DvmError('DVM_CANCELLED', `the run was cancelled: ${reason}`, {
            fix: 'Use concurrency: queue to let runs finish.',
          }),
        );
        return;
      }
    }
  }

  private startRun(job: Armed, runs: JobRuns, fired: Fired): void {
    const controller = new AbortController();
    runs.controller = controller;
    runs.runId = undefined;
    runs.done = this.runOnce(job, runs, controller.signal, fired).then(() => {
      runs.controller = undefined;
      runs.runId = undefined;
      const { next, state } = onRunEnded(runs.state);
      runs.state = state;
      const current = this.armed.get(job.key);
      if (next && current && !this.stopped) this.startRun(current, runs, next);
      else if (next) runs.state = idle();
    });
  }

  private async runOnce(job: Armed, runs: JobRuns, signal: AbortSignal, fired: Fired): Promise<void> {
    try {
      const scope: Placement = { ...job.placement };
      // The run's default workdir is the App's path: through the scope when the App is in the job's domain
      // (run-service looks it up there), and as the fallback cwd in any case.
      if (job.app && placementLabel(job.app.placement) === placementLabel(job.placement))
        scope.app = job.app.name;
      const prepared = await prepare(this.platform, {
        kind: job.kind,
        name: job.name,
        scope,
        trigger: fired.trigger,
        commit: fired.commit,
        cwd: job.app?.path ?? this.options.cwd,
        ...(this.options.agent ? { agent: this.options.agent } : {}),
      });
      runs.runId = prepared.root.id;
      this.emit({ type: 'run.started', job: job.label, run: prepared.root.id, fired });
      const root = await prepared.execute(signal);
      this.emit({
        type: 'run.finished',
        job: job.label,
        run: root.id,
        status: root.status,
        reason: root.reason,
        durationMs: root.durationMs,
      });
    } catch (error) {
      this.emit({ type: 'error', job: job.label, error: asDvmError(error) });
    }
  }
}

// A Task with spec.schedule as the scheduler arms it: its cron, a Job's default concurrency, no App of its own
// (it runs where `dvm run task` would, from serve's directory or its App's path).
function wantTask(task: StoredObject, key: string, schedule: string): Wanted {
  const problem = cronProblem(schedule);
  const problems = problem
    ? [
        new DvmError('DVM_CRON_INVALID', problem, {
          fix: 'Use five fields (minute hour day-of-month month day-of-week), or six with seconds first, that some date matches.',
          path: 'spec.schedule',
        }),
      ]
    : [];
  const want = {
    key,
    kind: 'task' as const,
    label: `task ${placementLabel(task.placement)}/${task.name}`,
    name: task.name,
    placement: task.placement,
    concurrency: DEFAULT_CONCURRENCY,
    manual: false,
    ...(problem ? {} : { schedule }),
    commit: false,
    problems,
  };
  const config = JSON.stringify({ ...want, problems: problems.map((p) => `${p.code} ${p.message}`) });
  return { ...want, config };
}
