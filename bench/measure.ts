// Measurement helpers of the benchmarks: every measurement is a whole process, spawn to exit.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..');
/** Scratch directory of the benchmarks (git-ignored). */
export const OUT = join(import.meta.dirname, '.out');
/** The dvm CLI entry point. */
export const DVM = join(ROOT, 'bin', 'dvm.js');
/** The Node that runs the benchmarks (and every measured Node process). */
export const NODE = process.execPath;
const TIME = '/usr/bin/time';

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A fresh, empty directory `name` under bench/.out/. */
export function freshDir(name: string): string {
  const dir = join(OUT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, NODE_COMPILE_CACHE: join(OUT, 'compile-cache'), ...env };
}

function check(command: string, args: string[], result: ReturnType<typeof spawnSync>): void {
  if (result.status === 0) return;
  throw new Error(
    `${command} ${args.join(' ')} exited with ${result.status ?? result.signal}:\n${String(result.stderr).slice(0, 4000)}`,
  );
}

/** Runs a program to completion (stdout to /dev/null): its wall time in ms, start (epoch ms) and stderr. Non-zero exit throws. */
export function runCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): { ms: number; startedAt: number; stderr: string } {
  const startedAt = Date.now();
  const start = performance.now();
  const result = spawnSync(command, args, {
    cwd: ROOT,
    env: environment(env),
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - start;
  check(command, args, result);
  return { ms, startedAt, stderr: result.stderr };
}

/** Wall time in ms of one Node process run to completion; a non-zero exit aborts the benchmark with its stderr. */
export function timeProcess(args: string[], env: Record<string, string> = {}): number {
  return runCommand(NODE, args, env).ms;
}

/** Peak RSS in MB of one Node process run to completion (GNU time's %M, else /proc/PID/status VmHWM polled). */
export async function peakRssMb(args: string[], env: Record<string, string> = {}): Promise<number> {
  if (existsSync(TIME)) {
    const file = join(OUT, 'time.txt');
    runCommand(TIME, ['-o', file, '-f', '%M', NODE, ...args], env);
    return Number(readFileSync(file, 'utf8').trim().split('\n').pop()) / 1024;
  }
  const child = spawn(NODE, args, { cwd: ROOT, env: environment(env), stdio: 'ignore' });
  let peakKb = 0;
  const poll = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // Gone between two polls: the last value stands.
    }
  };
  const timer = setInterval(poll, 20);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
  return peakKb / 1024;
}
