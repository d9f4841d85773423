import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError } from '../actions/process.ts';
import { DvmError } from '../errors/dvm-error.ts';

/** A Docker-HEALTHCHECK-like probe: exactly one of command, tcp or http, with its timing. */
export interface HealthCheck {
  command?: string[];
  tcp?: { host?: string; port: number };
  http?: { url: string };
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

/** The outcome of one probe. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
  durationMs: number;
}

/** Options of probeOnce and waitHealthy. */
export interface ProbeOptions {
  signal?: AbortSignal;
  /** Runs a command probe and resolves with its exit status (default: execFile without a shell). */
  runCommand?: (argv: string[], timeoutMs: number) => Promise<number>;
  /** Called after every probe, healthy or not. */
  onProbe?: (result: ProbeResult) => void;
}

// While starting up, probe at least this often so readiness is noticed fast: 25 ms at first, doubling to 250 ms
// (most services are ready within a few hundred milliseconds; slow ones are not probed hundreds of times).
const STARTUP_INTERVAL_MS = 250;
const STARTUP_FIRST_MS = 25;
const LABEL = 'the health check';

/** Runs the check's probe once; a failing probe resolves with ok false, only an abort rejects. */
export async function probeOnce(check: HealthCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const { signal } = opts;
  if (signal?.aborted) throw abortError(signal.reason, LABEL);
  const started = performance.now();
  let outcome: { ok: boolean; detail: string };
  try {
    outcome = await untilAborted(runProbe(check, opts), signal);
  } catch (error) {
    if (signal?.aborted) throw abortError(signal.reason, LABEL);
    outcome = { ok: false, detail: (error as Error).message };
  }
  return { ...outcome, durationMs: Math.round(performance.now() - started) };
}

/** Probes until healthy; throws DVM_HEALTH_FAILED after `retries` + 1 failures past the start period. */
export async function waitHealthy(check: HealthCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const started = Date.now();
  let failures = 0;
  let probes = 0;
  for (;;) {
    const starting = Date.now() - started < check.startPeriodMs;
    const result = await probeOnce(check, opts);
    opts.onProbe?.(result);
    if (result.ok) return result;
    if (!starting && ++failures > Math.max(0, check.retries)) {
      throw new DvmError(
        'DVM_HEALTH_FAILED',
        `${describe(check)} failed ${failures} time(s) in a row: ${result.detail}`,
        {
          fix: 'Look at the instance log for why it is not ready, or raise startPeriod, retries or timeout.',
          path: 'healthCheck',
          details: { failures, detail: result.detail },
        },
      );
    }
    const ramp = Math.min(STARTUP_INTERVAL_MS, STARTUP_FIRST_MS * 2 ** probes++);
    const wait = starting ? Math.min(check.intervalMs, ramp) : check.intervalMs;
    try {
      await sleep(wait, undefined, { signal: opts.signal });
    } catch {
      throw abortError(opts.signal?.reason, LABEL);
    }
  }
}

function describe(check: HealthCheck): string {
  if (check.command) return `health command \`${check.command.join(' ')}\``;
  if (check.tcp) return `TCP health check on ${check.tcp.host ?? '127.0.0.1'}:${check.tcp.port}`;
  return `HTTP health check of ${check.http?.url}`;
}

async function runProbe(check: HealthCheck, opts: ProbeOptions): Promise<{ ok: boolean; detail: string }> {
  const { timeoutMs } = check;
  if (check.command) {
    if (opts.runCommand) {
      const status = await opts.runCommand(check.command, timeoutMs);
      return { ok: status === 0, detail: `exit status ${status}` };
    }
    return execProbe(check.command, timeoutMs, opts.signal);
  }
  if (check.tcp) return tcpProbe(check.tcp.host ?? '127.0.0.1', check.tcp.port, timeoutMs);
  if (check.http) {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    try {
      const response = await fetch(check.http.url, { signal, redirect: 'manual' });
      await response.body?.cancel();
      const ok = response.status >= 200 && response.status < 400;
      return { ok, detail: `HTTP ${response.status} from ${check.http.url}` };
    } catch (error) {
      if (timeout.aborted) return { ok: false, detail: `no HTTP answer within ${timeoutMs} ms` };
      const cause = (error as Error & { cause?: Error }).cause;
      return { ok: false, detail: `HTTP request failed: ${cause?.message ?? (error as Error).message}` };
    }
  }
  throw new DvmError('DVM_SCHEMA_INVALID', 'a health check needs a command, tcp or http probe', {
    fix: 'Give healthCheck one of command, tcp or http.',
    path: 'healthCheck',
  });
}

function execProbe(argv: string[], timeoutMs: number, signal?: AbortSignal) {
  return new Promise<{ ok: boolean; detail: string }>((resolve) => {
    const options = { timeout: timeoutMs, killSignal: 'SIGKILL' as const, signal, maxBuffer: 1 << 20 };
    execFile(argv[0], argv.slice(1), options, (error, stdout, stderr) => {
      const output = `${stderr}`.trim() || `${stdout}`.trim();
      const tail = output ? `: ${output.slice(-200)}` : '';
      if (!error) return resolve({ ok: true, detail: `exit status 0${tail}` });
      const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
      if (e.code === 'ENOENT') return resolve({ ok: false, detail: `${argv[0]}: program not found` });
      if (e.killed) return resolve({ ok: false, detail: `no exit within ${timeoutMs} ms${tail}` });
      const status = typeof e.code === 'number' ? `exit status ${e.code}` : `killed by ${e.signal ?? e.code}`;
      resolve({ ok: false, detail: `${status}${tail}` });
    });
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number) {
  return new Promise<{ ok: boolean; detail: string }>((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean, detail: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, detail });
    };
    const timer = setTimeout(() => done(false, `no TCP connection within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(true, `connected to ${host}:${port}`));
    socket.once('error', (error) => done(false, `TCP connect to ${host}:${port}: ${error.message}`));
  });
}

function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
