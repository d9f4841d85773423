import { spawn, spawnSync } from 'node:child_process';
import { DVM_BIN, REPO_ROOT } from './dvm.ts';

/** util-linux `script`, which runs a command on a pseudo-terminal (tests of the live view skip without it). */
export const HAS_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** What a dvm on a pseudo-terminal printed (escape sequences included) and how it exited. */
export interface PtyRun {
  status: number;
  output: string;
}

/** Single-quotes a word for /bin/sh. */
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs dvm on a pseudo-terminal of `columns`×`rows` (0×0: a pty whose size nobody set, as under some CI
 * runners or `docker exec -t`). `keys` are typed into the terminal when `typeWhen` first holds for the output
 * so far (`\x03` is Ctrl-C: the terminal sends SIGINT to its foreground process group, as a real one does).
 */
export function dvmPty(
  home: string,
  args: string[],
  options: {
    columns?: number;
    rows?: number;
    env?: Record<string, string>;
    keys?: string;
    typeWhen?: (output: string) => boolean;
    /** Instead of typing keys, close the terminal when `typeWhen` holds (its session gets SIGHUP). */
    hangUp?: boolean;
  } = {},
): Promise<PtyRun> {
  const { columns = 80, rows = 24 } = options;
  const env = Object.entries({ DVM_HOME: home, ...options.env })
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(' ');
  const inner = `stty cols ${columns} rows ${rows}; ${env} exec ${quote(process.execPath)} ${quote(DVM_BIN)} ${args.map(quote).join(' ')}`;
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', inner, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let typed = false;
    child.stdout.on('data', (d) => {
      output += d;
      if (!typed && (options.keys || options.hangUp) && options.typeWhen?.(output)) {
        typed = true;
        if (options.hangUp) child.kill('SIGKILL');
        else child.stdin.write(options.keys ?? '');
      }
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (status) => {
      resolve({ status: status ?? -1, output });
    });
  });
}
