import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../agent/agent.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Platform } from '../../service/platform.ts';
import { killRunProcesses } from '../../service/run/orphaned-tasks.ts';
import { prepare } from '../../service/run/run-service.ts';
import { SUCCESS_STATUSES } from '../../store/runs.ts';
import type { Command, CommandContext } from '../command.ts';
import { holdLock } from '../hold-lock.ts';
import { createRunView, formatDuration, type RunViewMode } from '../output/run-view.ts';

const RUNNABLE = ['task', 'workflow', 'pipeline', 'orchestration', 'job'];

function parallelismOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // Decimal digits only: Number() would also take 1e3, 0x2 or ' 4 '.
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new DvmError('DVM_USAGE', `--parallelism must be a positive integer, not "${value}"`, {
      fix: 'Pass e.g. --parallelism 4.',
    });
  return n;
}

/** `dvm run task|workflow|pipeline|orchestration|job NAME`: run it now, with live progress; exit status is the outcome. */
export const command: Command = {
  summary: 'Run a task, workflow, pipeline, orchestration or job now, with live progress',
  usage: `Usage: dvm run task|workflow|pipeline|orchestration|job NAME [flags]
       dvm run --resume RUN_ID

  -p, --parallelism N   most tasks at once (default: the number of cores)
  --no-cache            run tasks even when their inputs match an earlier success
  --stage NAME          run only this pipeline stage (repeatable; manual stages included when named)
  --include-manual      run manual stages too
  --resume RUN_ID       re-run what did not succeed in an earlier run, reusing its results (and its
                        stages, App, working directory, parallelism and cache setting)
  -o json               stream the run's events as NDJSON
  -y, --yes             confirm the gates its action tasks meet in their environment (stage, prod: the
                        policies must still allow them); a second principal's approval is waited for

On a terminal the run is a live tree; otherwise one line per state change. Ctrl-C cancels (running tasks
are stopped, their process groups killed) and exits 130 once the run is recorded Cancelled (SIGTERM 143, a
closed terminal 129: 128 + the signal, as shells expect of an interrupted command); a second Ctrl-C kills them at
once and exits 130. Otherwise the exit status is 0 when the run succeeded, 1 when it did not.`,
  flags: ['parallelism', 'no-cache', 'stage', 'include-manual', 'resume', 'output', 'yes'],
  maxArgs: 2,
  async run(ctx) {
    const [kind, name] = ctx.positionals;
    if (!ctx.flags.resume && (!kind || !name || !RUNNABLE.includes(kind.toLowerCase()))) {
      throw new DvmError('DVM_USAGE', 'usage: dvm run task|workflow|pipeline|orchestration|job NAME', {
        fix: 'Name what to run, e.g. `dvm run pipeline ci-pipeline`.',
      });
    }
    // A token set for a remote agent does not follow a run (it runs here, as the local user, as pipelines do): said
    // once, so nobody takes its actions for the token's.
    if (ctx.io.env.DVM_SERVER || ctx.io.env.DVM_TOKEN || ctx.io.env.DVM_TOKEN_FILE)
      ctx.io.stderr.write(
        "note: dvm run runs here, its actions as the local user through this home's agent and policies; DVM_SERVER and DVM_TOKEN are for dvm action, audit and execution\n",
      );
    const platform = await ctx.platform();
    // One resume of a run at a time: two would both run its failed tasks.
    const runDir = ctx.flags.resume
      ? join(ctx.home, 'runs', ctx.flags.resume.replace(/[^A-Za-z0-9_-]/g, '_'))
      : undefined;
    const releaseResume =
      ctx.flags.resume && runDir && existsSync(runDir)
        ? await holdLock(
            join(runDir, 'resume.lock'),
            `is resuming run ${ctx.flags.resume}`,
            'Wait for that resume to end (dvm get runs), or cancel it: dvm cancel run ID.',
          )
        : undefined;
    try {
      return await runPrepared(ctx, platform, kind, name);
    } finally {
      releaseResume?.();
    }
  },
};

async function runPrepared(
  ctx: CommandContext,
  platform: Platform,
  kind: string | undefined,
  name: string | undefined,
): Promise<number> {
  const isTty = Boolean((ctx.io.stdout as { isTTY?: boolean }).isTTY);
  // A terminal that cannot move its cursor (TERM=dumb, as in Emacs' shell) gets one line per change.
  const live = isTty && ctx.io.env.TERM !== 'dumb';
  const mode: RunViewMode = ctx.flags.output === 'json' ? 'json' : live ? 'live' : 'lines';
  const view = await createRunView(mode, ctx.io);
  // The run's action tasks share one agent, opened by the first of them and closed after the run; audit alerts
  // that could not be posted are reported once the run's own output is done.
  let agent: Promise<Agent> | undefined;
  const unsentAlerts: string[] = [];
  const agentOf = (): Promise<Agent> => {
    agent ??= import('../../agent/agent.ts').then(async ({ openAgent }) => {
      const opened = await openAgent(ctx.home, { env: ctx.io.env as Record<string, string> });
      opened.alerts?.onOutcome((o) => {
        if (o.outcome === 'failed')
          unsentAlerts.push(`${o.rule} (audit #${o.seq}): ${o.error.code}: ${o.error.message}`);
      });
      return opened;
    });
    return agent;
  };
  try {
    return await runWithAgent(ctx, platform, kind, name, view, mode, agentOf);
  } finally {
    await (await agent?.catch(() => undefined))?.close();
    for (const line of unsentAlerts) ctx.io.stderr.write(`warning: audit alert ${line}\n`);
  }
}

async function runWithAgent(
  ctx: CommandContext,
  platform: Platform,
  kind: string | undefined,
  name: string | undefined,
  view: Awaited<ReturnType<typeof createRunView>>,
  mode: RunViewMode,
  agent: () => Promise<Agent>,
): Promise<number> {
  const prepared = await prepare(platform, {
    kind: kind ?? '',
    name: name ?? '',
    scope: await ctx.scope(),
    parallelism: parallelismOf(ctx.flags.parallelism),
    noCache: ctx.flags['no-cache'],
    stages: ctx.flags.stage,
    includeManual: ctx.flags['include-manual'],
    resume: ctx.flags.resume,
    cwd: ctx.io.cwd,
    listener: view.listener,
    agent,
    ...(ctx.flags.yes ? { confirm: true } : {}),
  });
  const controller = new AbortController();
  let interrupts = 0;
  const cancel = () => {
    interrupts++;
    if (interrupts > 1) {
      // Not waiting for the grace any more: the tasks' groups go now, so none outlives this dvm.
      killRunProcesses(prepared.root.id);
      platform.runs.flush();
      ctx.io.stderr.write(`run ${prepared.root.id}: stopped at once (second interrupt); tasks killed\n`);
      process.exit(130);
    }
    controller.abort(
      new DvmError('DVM_CANCELLED', 'the run was cancelled', {
        fix: 'Run it again, or resume it: dvm run --resume ID.',
      }),
    );
  };
  // The signal that cancelled the run, if one did: dvm then exits 128 + its number, as a shell expects.
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal: the run is cancelled (its finally tasks run), not left to run on without dvm. Writes to the
  // terminal that is gone fail from now on (EIO, often before SIGHUP arrives); they must not end dvm before the
  // cancel is done. While the run goes, output that cannot be written is dropped rather than ending the run.
  const outputs = [process.stdout, process.stderr];
  const previous = outputs.map((stream) => stream.listeners('error') as ((error: Error) => void)[]);
  let hungUp = false;
  const hangup = (signal?: NodeJS.Signals) => {
    if (hungUp) return;
    hungUp = true;
    if (signal) stoppedBy ??= signal;
    cancel();
  };
  const outputLost = (error: NodeJS.ErrnoException) => {
    // The terminal went away (EIO), or the reader of a pipe (EPIPE: `dvm run … | head`): cancel, as on SIGHUP.
    if (error.code === 'EIO' || error.code === 'EPIPE') hangup();
  };
  for (const stream of outputs) {
    stream.removeAllListeners('error');
    stream.on('error', outputLost);
  }
  process.on('SIGHUP', hangup);
  try {
    if (mode !== 'json')
      ctx.io.stderr.write(
        `run ${prepared.root.id}: ${prepared.plan.kind.toLowerCase()}/${prepared.plan.name}\n`,
      );
    await view.start(prepared.plan, prepared.root);
    const root = await prepared.execute(controller.signal);
    await view.stop();
    if (mode !== 'json') {
      ctx.io.stderr.write(
        `${root.kind.toLowerCase()}/${root.name} ${root.status} in ${formatDuration(root.durationMs)}${root.reason ? ` (${root.reason})` : ''} — details: dvm status run ${root.id}; logs: dvm logs run ${root.id}\n`,
      );
    }
    if (stoppedBy && root.status === 'Cancelled') return 128 + constants.signals[stoppedBy];
    return SUCCESS_STATUSES.has(root.status) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', hangup);
    outputs.forEach((stream, i) => {
      stream.off('error', outputLost);
      if (!hungUp) for (const listener of previous[i]) stream.on('error', listener);
      else stream.on('error', () => {});
    });
  }
}
