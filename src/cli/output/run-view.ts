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

/** A live tree of stages and tasks with spinners and durations, drawn by listr2. */
async function liveView(): Promise<RunView> {
  const { Listr } = await import('listr2');
  const waiting = new Map<string, (run: RunRecord) => void>();
  const finished = new Map<string, RunRecord>();
  const byPath = new Map<string, RunRecord>();
  let listr: InstanceType<typeof Listr> | undefined;
  let done: Promise<unknown> | undefined;
  const whenFinal = (path: string) =>
    new Promise<RunRecord>((resolve) => {
      const run = finished.get(path);
      if (run) resolve(run);
      else waiting.set(path, resolve);
    });
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
  return {
    listener: (event) => {
      byPath.set(event.run.node, event.run);
      if (!FINAL_STATUSES.has(event.run.status)) return;
      finished.set(event.run.node, event.run);
      waiting.get(event.run.node)?.(event.run);
    },
    start: async (plan) => {
      listr = new Listr([toTask(plan) as never], {
        concurrent: true,
        exitOnError: false,
        rendererOptions: { collapseSubtasks: false, collapseErrors: false },
      });
      done = listr.run().catch(() => undefined);
    },
    stop: async () => {
      await done;
    },
  };
}

/** The view for a mode. */
export async function createRunView(mode: RunViewMode, io: CommandIo): Promise<RunView> {
  if (mode === 'json') return jsonView(io);
  if (mode === 'live') return liveView();
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
  }
  return `${lines.join('\n')}\n`;
}
