import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDuration } from '../../actions/builtin/duration.ts';
import type { AgentApi } from '../../agent/serve-api.ts';
import { isLoopback } from '../../agent/server/host-check.ts';
import type { TlsFiles } from '../../agent/server/tls-reload.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { Fired, SchedulerEvent } from '../../service/jobs/events.ts';
import { JobScheduler, RELOAD_INTERVAL_MS } from '../../service/jobs/scheduler.ts';
import { killRunProcesses } from '../../service/run/orphaned-tasks.ts';
import { scopeFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { holdLock } from '../hold-lock.ts';
import { resilientLog } from '../output/resilient-log.ts';
import { formatDuration } from '../output/run-view.ts';

const MAX_POLL_INTERVAL_MS = 24 * 24 * 3600 * 1000;

function pollIntervalOf(value: string | undefined): number {
  if (value === undefined) return 1000;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    if (!isDvmError(error)) throw error;
    ms = 0;
  }
  if (ms <= 0)
    throw new DvmError('DVM_USAGE', `--poll-interval must be a positive duration, not "${value}"`, {
      fix: 'Pass e.g. --poll-interval 500ms, 1s or 1m.',
    });
  // A timer waits at most 2^31 - 1 ms; Node runs a longer one after 1 ms, which would poll git without pause.
  if (ms > MAX_POLL_INTERVAL_MS)
    throw new DvmError('DVM_USAGE', `--poll-interval "${value}" is longer than 24d`, {
      fix: 'Pass at most --poll-interval 24d (commits are usually polled every few seconds).',
    });
  return ms;
}

// Jobs run only once serve started, after its API opened.
function apiNotOpen(): never {
  throw new DvmError('DVM_INTERNAL', 'a job ran an action before the agent API was open');
}

/** The default address of the agent API. */
const DEFAULT_LISTEN = '127.0.0.1:8700';

function listenOf(value: string | undefined): { host: string; port: number } {
  const text = value ?? DEFAULT_LISTEN;
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    throw new DvmError('DVM_USAGE', `--listen "${text}" is not HOST:PORT`, {
      fix: 'Pass e.g. --listen 127.0.0.1:8700 (port 0 picks a free port).',
    });
  }
  return { host: match[1] ?? match[2], port };
}

// The certificate and key of --tls-cert/--tls-key (both or neither), read relative to the working directory.
function tlsOf(flags: { 'tls-cert'?: string; 'tls-key'?: string }, cwd: string): TlsFiles | undefined {
  const certPath = flags['tls-cert'];
  const keyPath = flags['tls-key'];
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (!certPath || !keyPath) {
    throw new DvmError('DVM_USAGE', 'HTTPS needs both --tls-cert and --tls-key', {
      fix: 'Pass the PEM certificate with --tls-cert FILE and its private key with --tls-key FILE.',
    });
  }
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new DvmError(
        'DVM_FILE_NOT_FOUND',
        `--${flag} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        { file: path, fix: `Pass a readable PEM file to --${flag}.` },
      );
    }
  };
  const paths = { certPath: resolve(cwd, certPath), keyPath: resolve(cwd, keyPath) };
  return { ...paths, cert: read('tls-cert', paths.certPath), key: read('tls-key', paths.keyPath) };
}

// Bearer tokens must not cross a network in clear text: an address other machines can reach needs TLS, or an
// explicit --insecure-http (a TLS-terminating proxy in front, a private test network).
function checkTransport(host: string, tls: boolean, insecure: boolean | undefined): void {
  if (tls || insecure || isLoopback(host)) return;
  throw new DvmError(
    'DVM_USAGE',
    `--listen ${host} can be reached from other machines, and plain HTTP would send bearer tokens in clear text`,
    {
      fix: 'Serve HTTPS with --tls-cert FILE --tls-key FILE, or pass --insecure-http when a TLS proxy terminates in front of dvm.',
    },
  );
}

const short = (sha: string | null | undefined) => sha?.slice(0, 12) ?? '';
const triggerText = (f: Fired) => (f.trigger === 'commit' ? `commit ${short(f.commit)}` : 'schedule');

/** One log line (without the time) for a scheduler event. */
function describe(event: SchedulerEvent): string {
  switch (event.type) {
    case 'job.armed': {
      const what = [
        event.schedule ? `schedule "${event.schedule}"` : undefined,
        event.repo
          ? `commits in ${event.repo} (${event.head === null ? 'no commits yet' : `HEAD ${short(event.head) || 'unreadable'}`})`
          : undefined,
      ].filter(Boolean);
      return `${event.job} armed: ${what.join(' and ')}; concurrency ${event.concurrency}`;
    }
    case 'job.manual':
      return `${event.job} is manual: it runs only by hand (dvm run job)`;
    case 'job.disarmed':
      return `${event.job} disarmed (${event.reason === 'unscheduled' ? 'its schedule was removed' : event.reason})`;
    case 'trigger.fired':
      return `${event.job} fired: ${triggerText(event.fired)}`;
    case 'trigger.skipped':
      return `${event.job} skipped ${triggerText(event.fired)}: run ${event.activeRun ?? '(starting)'} is still active (concurrency skip)`;
    case 'trigger.queued':
      return event.coalesced
        ? `${event.job} coalesced ${triggerText(event.fired)} into the trigger already queued`
        : `${event.job} queued ${triggerText(event.fired)} behind run ${event.activeRun ?? '(starting)'}`;
    case 'run.cancelling':
      return `${event.job} cancelling run ${event.run ?? '(starting)'}: ${event.reason}`;
    case 'run.started':
      return `${event.job} run ${event.run} started (${triggerText(event.fired)})`;
    case 'run.finished':
      return `${event.job} run ${event.run} ${event.status}${event.durationMs !== undefined ? ` in ${formatDuration(event.durationMs)}` : ''}${event.reason ? ` (${event.reason})` : ''}`;
    case 'run.interrupted':
      return `run ${event.run} (${event.what}) Interrupted: its dvm process${event.pid ? ` ${event.pid}` : ''} ended before it finished; its processes were stopped (dvm run --resume ${event.run} runs what did not succeed)`;
    case 'error': {
      const { error } = event;
      const where = [event.job, error.location.path].filter(Boolean).join(' ');
      return `error ${error.code}${where ? ` ${where}` : ''}: ${error.message}${error.fix ? ` — fix: ${error.fix}` : ''}`;
    }
  }
}

/** `dvm serve`: the long-running process that watches Job triggers, runs the jobs and serves the agent API. */
export const command: Command = {
  summary: 'Serve the agent API, and watch job triggers (commits, schedules) to run the jobs, until stopped',
  usage: `Usage: dvm serve [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--insecure-http] [--no-api]
                 [--poll-interval DURATION] [-e ECOSYSTEM] [-d DOMAIN]

Arms every Job in the store (only those of -e/-d when given; the context is not used):
  trigger.schedule: CRON           cron, 5 fields, or 6 with seconds first ("*/10 * * * * *")
  trigger: {watch: app.path,       each new HEAD commit of the App's git repository (spec.app, else
            event: commit}         the only App of the job's domain); commits made while serve is down
                                   do not fire; in a repository without commits, the first one does
  trigger.manual: true, or none    never fires: run it with dvm run job NAME
and every Task with spec.schedule (the same cron), which runs as dvm run task NAME would, concurrency queue.

Runs work in the App's path. spec.concurrency decides what a trigger does while a run of the job is active:
skip (drop it), queue (default: one waits, later ones coalesce into it) or cancel-previous (cancel the
active run, then start the new one).

  --poll-interval DURATION         how often each watched repository's HEAD is read (default 1s, at most 24d)

Prints one line per event (armed, fired, skipped, run started/finished, errors with codes). The store is
re-read every ${RELOAD_INTERVAL_MS / 1000} s, so applied, changed or deleted Jobs (and Task schedules) take effect without
a restart.
SIGINT/SIGTERM (or SIGHUP: its terminal closed) stops the triggers, cancels the active runs (their finally
tasks run; they end Cancelled) and exits 0; a second one kills the runs' processes and exits 130.

It also serves the agent API (typed actions behind tokens, policy, confirmation and audit; see the README):
  --listen HOST:PORT               address of the API (default ${DEFAULT_LISTEN}; port 0 picks a free one)
  --tls-cert FILE --tls-key FILE   serve HTTPS with this PEM certificate (chain) and private key
  --insecure-http                  allow plain HTTP on an address other machines can reach (refused
                                   without it: tokens would travel in clear text); for a TLS proxy in front
  --no-api                         only run the job triggers
Policy files ($DVM_HOME/policies/*.cedar) and config.yaml (redact:, notify:, agent:) are re-read once a change
has held still for a second, the certificate within a second of a change; one that does not check out is logged
(with its line) and what is in force stays.`,
  flags: ['poll-interval', 'listen', 'no-api', 'tls-cert', 'tls-key', 'insecure-http'],
  maxArgs: 0,
  async run(ctx) {
    const pollIntervalMs = pollIntervalOf(ctx.flags['poll-interval']);
    if (ctx.flags['no-api']) {
      const apiFlag = (['listen', 'tls-cert', 'tls-key', 'insecure-http'] as const).find(
        (flag) => ctx.flags[flag] !== undefined,
      );
      if (apiFlag)
        throw new DvmError('DVM_USAGE', `--${apiFlag} sets up the agent API, which --no-api turns off`, {
          fix: `Leave out --no-api to serve the API, or --${apiFlag} to run only the job triggers.`,
        });
    }
    const listen = listenOf(ctx.flags.listen);
    const tls = ctx.flags['no-api'] ? undefined : tlsOf(ctx.flags, ctx.io.cwd);
    if (!ctx.flags['no-api']) checkTransport(listen.host, tls !== undefined, ctx.flags['insecure-http']);
    const platform = await ctx.platform();
    // The agent outlives its log sink: a closed pipe or a full disk moves the lines to stderr, never stops it.
    const log = resilientLog(ctx.io.stdout, ctx.io.stderr);
    let signalled: (name: string) => void = () => undefined;
    const stopRequested = new Promise<string>((resolve) => {
      signalled = resolve;
    });
    let signals = 0;
    let activeRuns: () => string[] = () => [];
    const onSignal = (name: string) => {
      signals++;
      // A second signal while stopping gives up waiting for the runs (their finally tasks, say): their processes
      // are killed at once, so none outlives serve.
      if (signals > 1) {
        for (const id of activeRuns()) killRunProcesses(id);
        process.exit(130);
      }
      signalled(name);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A closed terminal (or session) stops serve the same way, not abruptly: Node ends a process on SIGHUP (and
    // resets the SIG_IGN of nohup), which would leave its runs' processes behind and its executions unrecorded.
    process.on('SIGHUP', onSignal);
    let api: AgentApi | undefined;
    const scheduler = new JobScheduler(platform, {
      pollIntervalMs,
      scope: scopeFlags(ctx.flags),
      cwd: ctx.io.cwd,
      listener: (event) => log(describe(event)),
      // The jobs' action tasks run in the API's agent, so the API lists and cancels them like its own (with
      // --no-api each run opens its own, which nothing outside the run can reach).
      ...(ctx.flags['no-api'] ? {} : { agent: async () => api?.agent ?? apiNotOpen() }),
    });
    activeRuns = () => scheduler.activeRunIds();
    const { BackupScheduler } = await import('../../service/deps/backup-scheduler.ts');
    const backups = new BackupScheduler(platform, {
      // The backups run through the agent its API serves (listed in GET /v1/executions), as the jobs' actions do.
      ...(ctx.flags['no-api'] ? {} : { agent: async () => api?.agent ?? apiNotOpen() }),
      listener: (event) =>
        log(
          event.type === 'backup'
            ? `backup of ${event.instance} (volume ${event.volume}): ${event.file} (${event.bytes} bytes, ${event.pruned} old pruned)`
            : `backup of ${'instance' in event ? event.instance : event.volume} failed: ${event.message}`,
        ),
    });
    // One serve per home: two would both fire every trigger (a job, a git.push, twice).
    const release = await holdLock(
      join(ctx.home, 'serve.lock'),
      `already serves the jobs of ${ctx.home}`,
      'Stop that serve first, or give this one its own DVM_HOME; two would fire every trigger twice.',
    );
    try {
      if (!ctx.flags['no-api']) {
        const { startAgentApi } = await import('../../agent/serve-api.ts');
        api = await startAgentApi(ctx.home, listen, ctx.io.env as Record<string, string>, log, tls);
        log(`agent API listening on ${api.address}`);
        const { describeAgentSettings } = await import('../../agent/agent-settings.ts');
        log(`agent settings: ${describeAgentSettings(api.agent.settings)}`);
        if (!tls && !isLoopback(listen.host))
          log(
            `warning: the agent API on ${api.address} is plain HTTP (--insecure-http): bearer tokens travel in clear text unless a TLS proxy is in front`,
          );
        // Reachable from other machines with no binding: a token's caller labels the environment, so one with an
        // operator token can call prod `dev` and skip its gates.
        if (!isLoopback(listen.host) && api.agent.settings.environments === undefined)
          log(
            `warning: the agent API on ${api.address} is not bound to environments: callers name target.env themselves, so a write labelled dev skips the stage and prod gates; set agent: {environments: [prod]} (the environments this host serves) in ${ctx.home}/config.yaml`,
          );
        const keyMode = tls ? statSync(tls.keyPath).mode & 0o777 : 0;
        if (keyMode & 0o077)
          log(
            `warning: the private key ${tls?.keyPath} can be read by other users (mode ${keyMode.toString(8).padStart(4, '0')}): chmod 600 it`,
          );
      }
      await scheduler.start();
      await backups.start();
      // Scheduled work acts in the pipeline environment: an agent bound to others would deny every firing.
      const bound = api?.agent.settings.environments;
      const scheduled = scheduler.size + scheduler.scheduledTasks + backups.size;
      if (bound && !bound.includes('pipeline') && scheduled > 0)
        log(
          `warning: volume backups, and the action tasks of jobs and scheduled tasks that name no environment, act in environment pipeline, which agent.environments (${bound.join(', ')}) in ${ctx.home}/config.yaml does not list: their actions will be denied; add pipeline to it`,
        );
      log(
        `serve started (pid ${process.pid}): ${scheduler.size} job(s), ${scheduler.scheduledTasks} scheduled task(s), ${backups.size} volume backup schedule(s); git polled every ${formatDuration(pollIntervalMs)}; ${api ? `API on ${api.address}` : 'no network port bound'}`,
      );
      log(`serve stopping (${await stopRequested})`);
    } finally {
      // The API stops taking requests first; the runs end next (their finally tasks may still run actions), then the
      // agent they share with the API closes.
      await api?.stopServing();
      await scheduler.stop();
      await backups.stop();
      await api?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      release();
    }
    log('serve stopped');
    return 0;
  },
};
