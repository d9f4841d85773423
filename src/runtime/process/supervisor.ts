// The supervisor of one process instance: `node supervisor.ts DIR [--adopt PID]`. It runs detached from dvm,
// starts the service in its own process group with its output appended to DIR/output.log, restarts it by the
// spec's policy with exponential backoff, and records every change in DIR/state.json. SIGTERM stops the service
// (SIGTERM to its group, SIGKILL after the grace period) and then the supervisor. With --adopt it watches a
// service a previous supervisor started, instead of starting a duplicate.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, copyFileSync, openSync, renameSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceSpec } from '../types.ts';
import { isAlive, lookupUser, processStartTime, signalGroup } from './proc.ts';
import { type ProcessState, readJson, writeJsonAtomic } from './state-files.ts';

const dir = process.argv[2] ?? '';
const adoptIndex = process.argv.indexOf('--adopt');
const adoptPid = adoptIndex > 0 ? Number(process.argv[adoptIndex + 1]) : undefined;
const graceMs = Number(process.env.DVM_STOP_GRACE_MS || 10_000);
const spec = readJson<ServiceSpec>(join(dir, 'spec.json'));
if (!spec) process.exit(2);
const statePath = join(dir, 'state.json');
const previous = readJson<ProcessState>(statePath);

let state: ProcessState = {
  id: spec.id,
  runtime: 'process',
  status: 'running',
  restarts: adoptPid ? (previous?.restarts ?? 0) : 0,
  specHash: spec.specHash,
  logPath: join(dir, 'output.log'),
  supervisorPid: process.pid,
  supervisorStart: processStartTime(process.pid),
  ...(adoptPid ? { pid: adoptPid, pidStart: previous?.pidStart, startedAt: previous?.startedAt } : {}),
};
let child: ChildProcess | undefined;
let stopping = false;
let watchTimer: NodeJS.Timeout | undefined;

function save(patch: Partial<ProcessState>): void {
  state = { ...state, ...patch };
  writeJsonAtomic(statePath, state);
}

function runAs(): { uid?: number; gid?: number } {
  if (!spec?.user || process.getuid?.() !== 0) return {};
  const ids = lookupUser(spec.user);
  return ids ? { uid: ids.uid, gid: ids.gid } : {};
}

// The service writes its output straight to the file (no pipe through us). A log past 10 MiB is rotated to
// output.log.1: at a (re)start by renaming it, while running by copying it and truncating it in place (the
// service appends, so its next write lands at the new end). At most about twice the limit is kept.
const ROTATE_BYTES = Number(process.env.DVM_LOG_ROTATE_BYTES || 10 * 1024 * 1024);
const ROTATE_CHECK_MS = Number(process.env.DVM_LOG_ROTATE_CHECK_MS || 30_000);

function rotateLog(path: string): void {
  try {
    if (statSync(path).size > ROTATE_BYTES) renameSync(path, `${path}.1`);
  } catch {}
}

function rotateLogInPlace(path: string): void {
  try {
    if (statSync(path).size <= ROTATE_BYTES) return;
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
  } catch {}
}

setInterval(() => rotateLogInPlace(join(dir, 'output.log')), ROTATE_CHECK_MS).unref();

function startService(): void {
  if (!spec) return;
  rotateLog(join(dir, 'output.log'));
  const out = openSync(join(dir, 'output.log'), 'a');
  try {
    child = spawn(spec.argv[0] ?? '', spec.argv.slice(1), {
      cwd: spec.workdir,
      env: spec.env,
      stdio: ['ignore', out, out],
      detached: true,
      ...runAs(),
    });
  } finally {
    closeSync(out);
  }
  child.once('error', (error) => {
    save({ status: 'exited', pid: undefined, error: error.message, exitCode: 127 });
    process.exit(1);
  });
  child.once('spawn', () => {
    const pid = child?.pid;
    save({
      status: 'running',
      pid,
      pidStart: pid ? processStartTime(pid) : undefined,
      startedAt: new Date().toISOString(),
      error: undefined,
      exitCode: undefined,
    });
  });
  const began = Date.now();
  child.once('exit', (code, signal) => {
    child = undefined;
    onServiceExit(code ?? (signal ? 128 + (signalNumber(signal) ?? 9) : 1), Date.now() - began);
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGSEGV: 11, SIGABRT: 6 } as Record<string, number>)[signal];
}

function onServiceExit(exitCode: number, ranMs: number): void {
  if (stopping) {
    finish();
    return;
  }
  const again = spec?.restart === 'always' || (spec?.restart === 'on-failure' && exitCode !== 0);
  if (!again) {
    save({ status: 'exited', exitCode, pid: undefined });
    process.exit(0);
  }
  // Exponential backoff (0.5 s, 1 s, 2 s … 30 s), reset when the service had run for 10 s.
  const streak = ranMs > 10_000 ? 0 : Math.min(state.restarts, 6);
  const delay = Math.min(30_000, 500 * 2 ** streak);
  save({ status: 'restarting', exitCode, pid: undefined, restarts: state.restarts + 1 });
  setTimeout(() => {
    if (!stopping) startService();
  }, delay);
}

function watchAdopted(pid: number, pidStart: string | undefined): void {
  const began = Date.now();
  watchTimer = setInterval(() => {
    if (isAlive(pid, pidStart)) return;
    clearInterval(watchTimer);
    onServiceExit(137, Date.now() - began);
  }, 200);
}

function finish(): void {
  save({ status: 'stopped', pid: undefined });
  process.exit(0);
}

process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  if (watchTimer) clearInterval(watchTimer);
  const pid = child?.pid ?? (state.pid && isAlive(state.pid, state.pidStart) ? state.pid : undefined);
  if (!pid) {
    finish();
    return;
  }
  signalGroup(pid, 'SIGTERM');
  const kill = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
  if (!child) {
    // Adopted: not our child, so poll until it is gone.
    const poll = setInterval(() => {
      if (isAlive(pid, state.pidStart)) return;
      clearInterval(poll);
      clearTimeout(kill);
      finish();
    }, 50);
  }
});

if (adoptPid) {
  save({});
  watchAdopted(adoptPid, state.pidStart);
} else {
  startService();
}
