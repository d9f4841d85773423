import { execFile } from 'node:child_process';
import { DvmError } from '../../errors/dvm-error.ts';

// Variables that would point git at another repository than the one given with -C.
const REPOSITORY_VARIABLES = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR'];
const GIT_TIMEOUT_MS = 10_000;

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  return env;
}

/**
 * The commit HEAD points at in the repository at `dir` (`git -C DIR rev-parse --verify -q HEAD`, argv, no shell),
 * or `null` in a repository without commits yet (an unborn HEAD: git exits 1 without a word there, and 128 with
 * its reason when `dir` is no repository).
 */
export function readHead(dir: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', dir, 'rev-parse', '--verify', '-q', 'HEAD'],
      { env: gitEnv(), timeout: GIT_TIMEOUT_MS, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout.trim());
        if (error.code === 1 && !error.killed && stderr.trim() === '') return resolve(null);
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        const detail = (stderr.trim().split('\n').pop() ?? '') || error.message;
        reject(
          new DvmError(
            'DVM_GIT_FAILED',
            missing ? 'git is not installed (not on PATH)' : `git -C ${dir} rev-parse HEAD failed: ${detail}`,
            {
              fix: missing
                ? 'Install git: a commit trigger reads the repository with it.'
                : "Point the App's spec.path at a git repository.",
            },
          ),
        );
      },
    );
  });
}

/** What a HeadWatcher reports. */
export interface HeadWatcherHandlers {
  /** HEAD moved to another commit. */
  onCommit(sha: string): void;
  /** Reading HEAD failed (reported once until it works again or fails differently). */
  onError(error: DvmError): void;
}

/**
 * Polls a repository's HEAD and calls back when it moves to another commit. The baseline is the HEAD given
 * (a re-armed job keeps the one it had seen), else the first successful read: commits made before the
 * watcher started do not fire. In a repository without commits the baseline is `null`, so the first one fires.
 */
export class HeadWatcher {
  private readonly dir: string;
  private readonly intervalMs: number;
  private readonly handlers: HeadWatcherHandlers;
  private head: string | null | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(dir: string, intervalMs: number, handlers: HeadWatcherHandlers, baseline?: string | null) {
    this.dir = dir;
    this.intervalMs = intervalMs;
    this.handlers = handlers;
    this.head = baseline;
  }

  /** The last HEAD read (null: no commits yet; undefined until one read succeeded). */
  get current(): string | null | undefined {
    return this.head;
  }

  /** Reads the baseline, then polls every interval; returns it (null: no commits yet; undefined: unreadable). */
  async start(): Promise<string | null | undefined> {
    await this.poll();
    this.schedule();
    return this.head;
  }

  /** Stops polling; a read in flight reports nothing. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    // One read at a time: the next one is timed from the end of the last.
    this.timer = setTimeout(async () => {
      await this.poll();
      this.schedule();
    }, this.intervalMs);
  }

  private async poll(): Promise<void> {
    let sha: string | null;
    try {
      sha = await readHead(this.dir);
    } catch (error) {
      const problem = error as DvmError;
      if (!this.stopped && problem.message !== this.lastError) this.handlers.onError(problem);
      this.lastError = problem.message;
      return;
    }
    this.lastError = undefined;
    if (this.stopped) return;
    const previous = this.head;
    this.head = sha;
    if (previous !== undefined && sha !== null && previous !== sha) this.handlers.onCommit(sha);
  }
}
