import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** Absolute path of the real dvm binary. */
export const DVM_BIN = new URL('../../bin/dvm.js', import.meta.url).pathname;

/** Absolute path of the repository root. */
export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

/** What one dvm invocation printed and returned. */
export interface DvmRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `dvm` binary (same Node as the tests) with DVM_HOME set; never throws on a non-zero exit. */
export function dvm(
  home: string,
  args: string[],
  options: { input?: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): DvmRun {
  const result = spawnSync(process.execPath, [DVM_BIN, ...args], {
    ...(options.timeoutMs ? { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
    env: { ...process.env, DVM_HOME: home, NO_COLOR: '1', ...options.env },
    input: options.input ?? '',
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A fresh temporary directory removed when the test file ends. */
export function tempDir(prefix = 'dvm-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh DVM_HOME removed when the test file ends. */
export function tempHome(): string {
  return tempDir('dvm-test-');
}

/** Runs dvm and fails the test with its output unless it exits 0. */
export function dvmOk(
  home: string,
  args: string[],
  options: { input?: string; cwd?: string; env?: Record<string, string> } = {},
): DvmRun {
  const run = dvm(home, args, options);
  if (run.status !== 0)
    throw new Error(
      `dvm ${args.join(' ')} exited ${run.status}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`,
    );
  return run;
}

/** Runs the real `dvm` binary without blocking this process (servers in the test keep answering meanwhile). */
export function dvmAsync(
  home: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<DvmRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DVM_BIN, ...args], {
      env: { ...process.env, DVM_HOME: home, NO_COLOR: '1', ...options.env },
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

/** Runs `dvm action run NAME --param …` in-process as the local admin and returns the action's result. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the result field by field and assert each one.
export function actionResult(home: string, name: string, params: string[]): Record<string, any> {
  const args = ['action', 'run', name, ...params.flatMap((p) => ['--param', p]), '-o', 'json'];
  return JSON.parse(dvmOk(home, args).stdout).result;
}
