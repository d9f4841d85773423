import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionContext } from './action.ts';
import { type CappedLog, createMemoryLog } from './log-file.ts';

/** An ActionContext for tests: real process env, a memory log, a never-aborted signal unless given one. */
export function testContext(
  overrides: Partial<Omit<ActionContext, 'log'>> = {},
): ActionContext & { log: CappedLog & { text(): string } } {
  const log = createMemoryLog();
  return {
    signal: new AbortController().signal,
    workdir: process.cwd(),
    env: { ...(process.env as Record<string, string>) },
    resultsDir: tmpdir(),
    notify: {},
    ...overrides,
    log,
  } as ActionContext & { log: CappedLog & { text(): string } };
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'dvm-actions-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * True when the process is still running. A zombie counts as gone: it has exited, only its parent (or a PID 1
 * that does not reap, as in some containers) has not collected it.
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}
