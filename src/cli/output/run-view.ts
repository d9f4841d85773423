import type { EngineEvent, EngineListener } from '../../engine/events.ts';
import type { PlanNode } from '../../engine/plan.ts';
import { FINAL_STATUSES, type RunRecord } from '../../store/runs.ts';
import type { CommandIo } from '../io.ts';

/** How `dvm run` shows progress: a live tree (terminal), one line per event (pipes, CI), or NDJSON (-o json). */
export type RunViewMode = 'live' | 'lines' | 'json';

/** A progress view: the engine listener, plus start/stop around the run. */
export interface RunView {
  listener: EngineListener;
  start(plan: PlanNode, root: RunRecord): Promise<void>;
  stop(): Promise<void>;
}

/** `1.2s`, `340ms`, `2m05s`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

function describe(run: RunRecord): string {
  const details = [
    run.reason,
    run.cacheNote,
    run.attempts > 1 ? `${run.attempts} attempts` : undefined,
    run.exitCode !== undefined && run.exitCode !== 0 ? `exit ${run.exitCode}` : undefined,
  ]
    .filter(Boolean)
    .join('; ');
  return `${run.level} ${run.node} ${run.status}${run.durationMs !== undefined ? ` in ${formatDuration(run.durationMs)}` : ''}${details ? ` (${details})` : ''}`;
}

/** One line per state change, for logs and CI (no cursor movement). */
function linesView(io: CommandIo): RunView {
  // The last line of each record: an update that changes nothing shown (a callback's note) prints no second one.
  const last = new Map<string, string>();
  return {
    listener: (event: EngineEvent) => {
      if (event.type !== 'run.updated' || event.run.status === 'Pending') return;
      const line = describe(event.run);
      if (last.get(event.run.id) === line) return;
      last.set(event.run.id, line);
      const time = new Date().toISOString().slice(11, 19);
      io.stdout.write(`${time} ${line}\n`);
    },
    start: async () => undefined,
    stop: async () => undefined,
  };
}

/** Every engine event as one JSON object per line. */
function jsonView(io: CommandIo): RunView {
  return {
    listener: (event: EngineEvent) => io.stdout.write(`${JSON.stringify(event)}\n`),
    start: async () => undefined,
    stop: async () => undefined,
  };
}

// A group with more children than this shows as one line of counts (done/total, running, failed) instead of a line
// per child: a tree of hundreds of lines does not fit a screen, and listr2 redraws the whole tree on every change.
const GROUP_LINES = 20;
// Task ends reach listr2 at most this often, in batches: each change is a redraw.
const REDRAW_MS = 100;

/**
 * A live tree of stages and tasks with spinners and durations, drawn by listr2. Ctrl-C is dvm's (listr2's own
 * handler would exit at once, before the run is cancelled and its finally tasks run).
 */
async function liveView(io: CommandIo): Promise<RunView> {
  const { Listr } = await import('listr2');
  const stdout = io.stdout as NodeJS.WriteStream;
  // A pseudo-terminal whose size nobody set (some CI runners, `docker exec -t`) says 0 columns: 80, not a
  // character a line.
  if (stdout.isTTY && !stdout.columns) stdout.columns = 80;
  if (stdout.isTTY && !stdout.rows) stdout.rows = 24;
  // The plan's nodes by path (for the titles of groups shown as counts).
  const nodes = new Map<string, PlanNode>();
  const waiting = new Map<string, (run: RunRecord) => void>();
  const finished = new Map<string, RunRecord>();
  // Ends not yet handed to listr2, and the summaries of groups shown as counts.
  let pendingEnds: RunRecord[] = [];
  const summaries = new Map<
    string,
    { total: number; done: Set<string>; failed: Set<string>; running: Set<string> }
  >();
  const summaryTitles = new Map<string, (title: string) => void>();
  let flushTimer: NodeJS.Timeout | undefined;
  let listr: InstanceType<typeof Listr> | undefined;
  let done: Promise<unknown> | undefined;
  const whenFinal = (path: string) =>
    new Promise<RunRecord>((resolve) => {
      const run = finished.get(path);
      if (run) resolve(run);
      else waiting.set(path, resolve);
    });
  const summaryTitle = (node: PlanNode) => {
    const s = summaries.get(node.path);
    if (!s) return node.entry;
    const parts = [`${s.done.size}/${s.total} done`];
    if (s.running.size) parts.push(`${s.running.size} running`);
    if (s.failed.size) parts.push(`${s.failed.size} failed`);
    return `${node.entry} (${node.kind.toLowerCase()}) ${parts.join(', ')}`;
  };
  const flush = () => {
    flushTimer = undefined;
    const ends = pendingEnds;
    pendingEnds = [];
    for (const run of ends) {
      finished.set(run.node, run);
      waiting.get(run.node)?.(run);
    }
    for (const [path, set] of summaryTitles) {
      const node = nodes.get(path);
      if (node) set(summaryTitle(node));
    }
  };
  const toTask = (node: PlanNode): object => ({
    title: node.children.length ? `${node.entry} (${node.kind.toLowerCase()})` : node.entry,
    task: async (
      _ctx: unknown,
      task: {
        title: string;
        newListr: (tasks: object[], options: object) => unknown;
        skip: (message: string) => void;
      },
    ) => {
      if (node.children.length > GROUP_LINES && !node.task) {
        // One line of counts for the group, finished when the group's own record is.
        summaries.set(node.path, {
          total: node.children.length,
          done: new Set(),
          failed: new Set(),
          running: new Set(),
        });
        summaryTitles.set(node.path, (title) => {
          task.title = title;
        });
        task.title = summaryTitle(node);
        const run = await whenFinal(node.path);
        summaryTitles.delete(node.path);
        task.title = `${summaryTitle(node)} ${formatDuration(run.durationMs)}`;
        if (run.status !== 'Succeeded' && run.status !== 'Cached' && run.status !== 'Skipped')
          throw new Error(`${task.title} ${run.status}${run.message ? `: ${run.message}` : ''}`);
        return;
      }
      if (node.children.length > 0 && !node.task) {
        return task.newListr(node.children.map(toTask), { concurrent: true, exitOnError: false });
      }
      const run = await whenFinal(node.path);
      task.title = `${node.entry} ${formatDuration(run.durationMs)}${run.cacheNote && run.status === 'Cached' ? ' (cached)' : ''}`;
      if (run.status === 'Skipped') task.skip(`${node.entry} skipped${run.reason ? `: ${run.reason}` : ''}`);
      else if (run.status !== 'Succeeded' && run.status !== 'Cached')
        throw new Error(`${node.entry} ${run.status}${run.message ? `: ${run.message}` : ''}`);
    },
  });
  const index = (node: PlanNode) => {
    nodes.set(node.path, node);
    for (const child of node.children) index(child);
  };
  return {
    listener: (event) => {
      const run = event.run;
      // Counts of a group shown as one line: its children's starts and ends.
      const parent = run.node.slice(0, run.node.lastIndexOf('/'));
      const summary = summaries.get(parent);
      if (summary && run.status === 'Running') summary.running.add(run.node);
      if (!FINAL_STATUSES.has(run.status)) {
        if (summary && !flushTimer) flushTimer = setTimeout(flush, REDRAW_MS);
        return;
      }
      if (summary) {
        summary.running.delete(run.node);
        summary.done.add(run.node);
        if (run.status !== 'Succeeded' && run.status !== 'Cached' && run.status !== 'Skipped')
          summary.failed.add(run.node);
      }
      pendingEnds.push(run);
      flushTimer ??= setTimeout(flush, REDRAW_MS);
    },
    start: async (plan) => {
      index(plan);
      listr = new Listr([toTask(plan) as never], {
        concurrent: true,
        exitOnError: false,
        registerSignalListeners: false,
        rendererOptions: { collapseSubtasks: false, collapseErrors: false, formatOutput: 'truncate' },
      });
      done = listr.run().catch(() => undefined);
    },
    stop: async () => {
      clearTimeout(flushTimer);
      flush();
      await done;
    },
  };
}

/** The view for a mode. */
export async function createRunView(mode: RunViewMode, io: CommandIo): Promise<RunView> {
  if (mode === 'json') return jsonView(io);
  if (mode === 'live') return liveView(io);
  return linesView(io);
}

/** A tree of run records (`dvm status`): level, entry, status, duration, reason, message. */
export function renderRunTree(records: RunRecord[]): string {
  const depth = new Map<string, number>();
  const lines: string[] = [];
  for (const [i, run] of records.entries()) {
    // The first record is the top of what is shown: a whole run, or a part of one (a pipeline a job ran).
    const d = i > 0 && run.parentId ? (depth.get(run.parentId) ?? 0) + 1 : 0;
    depth.set(run.id, d);
    const label = d > 0 ? run.node.split('/').pop() : `${run.kind.toLowerCase()}/${run.name}`;
    const details = [
      run.reason,
      run.cacheNote,
      run.attempts > 1 ? `${run.attempts} attempts` : undefined,
      // Whatever the status: a succeeded task may say its background processes were stopped, or a callback failed.
      run.message,
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(
      `${'  '.repeat(d)}${label}  ${run.status}${run.durationMs !== undefined ? `  ${formatDuration(run.durationMs)}` : ''}${details ? `  (${details})` : ''}`,
    );
    // A failure that says what to do about it (a gate's --yes, a missing setting) says it under its line: the
    // task's own, or a failed callback's (of a task that succeeded too).
    if (run.fix) lines.push(`${'  '.repeat(d + 1)}fix: ${run.fix}`);
  }
  return `${lines.join('\n')}\n`;
}
