import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { Helper, type RemoteChild, type RemoteSpawn } from './helper.ts';

/** Where `npm install` builds the native spawner (scripts/build-native.mjs), relative to this file. */
export const NATIVE_SPAWNER = new URL('../../../build/native/dvm-spawn', import.meta.url).pathname;
// The protocol version dvm-spawn.c announces.
const PROTOCOL_VERSION = '2';
const SOURCE = new URL('./native/dvm-spawn.c', import.meta.url).pathname;
let sourceHash: string | undefined;
let warnedStale = false;

// The hash of dvm-spawn.c as scripts/build-native.mjs computes it: a binary built from other source is not used.
function currentSourceHash(): string {
  sourceHash ??= createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
  return sourceHash;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/** True when the native spawner was built (a C compiler was there at `npm install`). */
export function nativeSpawnerBuilt(): boolean {
  return existsSync(NATIVE_SPAWNER);
}

// Fields are NUL-terminated; one that contains a NUL cannot travel (and could not be an argument anyway).
function frame(fields: string[]): Buffer {
  const body = `${fields.join('\0')}\0`;
  const size = Buffer.byteLength(body);
  const buffer = Buffer.allocUnsafe(4 + size);
  buffer.writeUInt32LE(size, 0);
  buffer.write(body, 4);
  return buffer;
}

function envFields(env: Record<string, string>): string[] {
  const fields: string[] = [];
  for (const key in env) {
    const value = env[key];
    if (value !== undefined) fields.push(`${key}=${value}`);
  }
  return [String(fields.length)].concat(fields);
}

// What dvm-spawn reads at most (MAX_FRAME, and the fields of a list, in dvm-spawn.c); execve refuses far less
// (E2BIG), so a command past them is refused here as E2BIG instead of stopping the helper and its other commands.
const MAX_FRAME_BYTES = 64 * 1024 * 1024 - 64 * 1024;
const MAX_LIST = 1_000_000;

const hasNul = (text: string) => text.includes('\0');
// Per environment: a NUL in it, its variables and their bytes (counted once).
const envSizes = new WeakMap<Record<string, string>, { nul: boolean; count: number; bytes: number }>();

function envSize(env: Record<string, string>): { nul: boolean; count: number; bytes: number } {
  let size = envSizes.get(env);
  if (size) return size;
  size = { nul: false, count: 0, bytes: 0 };
  for (const key in env) {
    const value = String(env[key]);
    size.nul ||= hasNul(key) || hasNul(value);
    size.count++;
    size.bytes += Buffer.byteLength(key) + Buffer.byteLength(value) + 2;
  }
  envSizes.set(env, size);
  return size;
}

function tooLarge(spec: RemoteSpawn, env: { count: number; bytes: number }): boolean {
  if (spec.argv.length > MAX_LIST || env.count > MAX_LIST) return true;
  let bytes = env.bytes + Buffer.byteLength(spec.cwd) + Buffer.byteLength(spec.logPath);
  for (const arg of spec.argv) bytes += Buffer.byteLength(arg) + 1;
  return bytes > MAX_FRAME_BYTES;
}

/**
 * dvm-spawn (native/dvm-spawn.c), a small C program that starts commands with posix_spawn: no copy of a
 * process's page tables per command, the cost that makes Node's own spawn slow. Messages travel as frames on its
 * stdin and lines on its stdout.
 */
export class NativeHelper extends Helper {
  readonly process: ChildProcess;
  #pending = '';
  readonly #binary: string;

  /** Starts dvm-spawn (or `binary`); onGone when it dies (or is out of date), onIdle when its last command ended. */
  constructor(onGone: (helper: Helper) => void, onIdle: () => void, binary = NATIVE_SPAWNER) {
    super(onGone, onIdle);
    this.#binary = binary;
    this.process = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    // Writing to a helper that died (EPIPE): its 'close' follows, once what it wrote before has been read.
    this.process.stdin?.on('error', () => {});
    const stdout = this.process.stdout;
    stdout?.setEncoding('utf8');
    stdout?.on('data', (chunk: string) => this.#read(chunk));
    this.watch();
  }

  #read(chunk: string): void {
    const text = this.#pending + chunk;
    let from = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', from)) {
      this.#line(text.slice(from, end));
      from = end + 1;
    }
    this.#pending = text.slice(from);
  }

  #line(line: string): void {
    const [kind, a, b, c, d] = line.split(' ', 5);
    if (kind === 'R') {
      if (a === PROTOCOL_VERSION && b === currentSourceHash()) this.receive({ t: 'ready' });
      else this.#outOfDate();
    } else if (kind === 'Q') this.receive({ t: 'started', id: Number(a), pid: Number(b) });
    else if (kind === 'P') this.receive({ t: 'pid', id: Number(a), pid: Number(b) });
    else if (kind === 'X') {
      const signal = Number(d) > 0 ? (SIGNAL_NAMES.get(Number(d)) ?? null) : null;
      this.receive({ t: 'exit', id: Number(a), pid: Number(b), code: signal ? null : Number(c), signal });
    } else if (kind === 'D') {
      const message = line.slice(kind.length + a.length + b.length + 3);
      this.receive({ t: 'error', id: Number(a), code: b, message: `spawn ${message}` });
    }
  }

  // Built from other source (`git pull` without `npm install`): not used; the pool falls back to Node helpers.
  #outOfDate(): void {
    if (!warnedStale) {
      warnedStale = true;
      process.stderr.write(
        `dvm: ${this.#binary} was built from other source than ${SOURCE}; using Node helpers (slower) until \`npm run build:native\` rebuilds it\n`,
      );
    }
    this.gone(`${this.#binary} is out of date`);
    this.stop();
  }

  /** Refuses a command with a NUL in it (as Node's spawn does) or too large to start (E2BIG), else starts it. */
  override send(id: number, spec: RemoteSpawn, child: RemoteChild): void {
    const env = envSize(spec.env);
    if (spec.argv.some(hasNul) || hasNul(spec.cwd) || hasNul(spec.logPath) || env.nul) {
      const error = Object.assign(
        new Error('an argument, the directory or the environment contains a NUL byte'),
        {
          code: 'ERR_INVALID_ARG_VALUE',
        },
      );
      queueMicrotask(() => child.emit('error', error));
      return;
    }
    if (tooLarge(spec, env)) {
      const error = Object.assign(new Error(`spawn ${spec.argv[0]} E2BIG`), { code: 'E2BIG' });
      queueMicrotask(() => child.emit('error', error));
      return;
    }
    super.send(id, spec, child);
  }

  protected hold(held: boolean): void {
    const { stdin, stdout } = this.process;
    if (held) {
      this.process.ref();
      (stdout as unknown as { ref(): void } | null)?.ref();
      (stdin as unknown as { ref(): void } | null)?.ref();
    } else {
      this.process.unref();
      (stdout as unknown as { unref(): void } | null)?.unref();
      (stdin as unknown as { unref(): void } | null)?.unref();
    }
  }

  protected keepEnv(id: number, env: Record<string, string>): void {
    this.process.stdin?.write(frame(['E', String(id)].concat(envFields(env))));
  }

  protected forgetEnv(id: number): void {
    this.process.stdin?.write(frame(['F', String(id)]));
  }

  protected start(id: number, spec: RemoteSpawn, env: number | Record<string, string>): void {
    // Absolute: dvm-spawn looks a program up before it changes into the directory (and execs it after).
    const [cwd, logPath] = [resolve(spec.cwd), resolve(spec.logPath)];
    const fields = ['S', String(id), typeof env === 'number' ? String(env) : '0', cwd, logPath];
    // concat, not push(...): a spread of a long argv overflows the stack.
    const all = fields.concat(
      String(spec.argv.length),
      spec.argv,
      typeof env === 'number' ? [] : envFields(env),
    );
    this.process.stdin?.write(frame(all));
  }
}
