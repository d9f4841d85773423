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

/** The commit HEAD points at in the repository at `dir` (`git -C DIR rev-parse --verify HEAD`, argv, no shell). */
export function readHead(dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', dir, 'rev-parse', '--verify', 'HEAD'],
      { env: gitEnv(), timeout: GIT_TIMEOUT_MS, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout.trim());
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        const detail = (stderr.trim().split('\n').pop() ?? '') || error.message;
        reject(
          new DvmError(
            'DVM_GIT_FAILED',
            missing ? 'git is not installed (not on PATH)' : `git -C ${dir} rev-parse HEAD failed: ${detail}`,
            {
              fix: missing
                ? 'Install git: a commit trigger reads the repository with it.'
                : "Point the App's spec.path at a git repository with at least one commit.",
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
 * watcher started do not fire.
 */
export class HeadWatcher {
  private readonly dir: string;
  private readonly intervalMs: number;
  private readonly handlers: HeadWatcherHandlers;
  private head: string | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(dir: string, intervalMs: number, handlers: HeadWatcherHandlers, baseline?: string) {
    this.dir = dir;
    this.intervalMs = intervalMs;
    this.handlers = handlers;
    this.head = baseline;
  }

  /** The last HEAD read (undefined until one read succeeded). */
  get current(): string | undefined {
    return this.head;
  }

  /** Reads the baseline, then polls every interval; returns the baseline HEAD (undefined when unreadable). */
  async start(): Promise<string | undefined> {
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
    let sha: string;
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
    if (previous !== undefined && previous !== sha) this.handlers.onCommit(sha);
  }
}
