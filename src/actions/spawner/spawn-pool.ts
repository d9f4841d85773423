import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';

const HELPER = new URL('./spawn-helper.mjs', import.meta.url).pathname;
// Environments kept by each helper (named by id); older ones are forgotten.
const KEPT_ENVS = 16;
// Helpers with nothing to do for this long stop (a long-running `dvm serve` does not keep them, ~40 MB each);
// the next burst starts them again.
const IDLE_STOP_MS = 30_000;

/** What a spawn needs: argv, working directory, environment and the log file that takes stdout and stderr. */
export interface RemoteSpawn {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  logPath: string;
}

/**
 * A command started by a helper: emits `spawn` (pid, which is also its process group's id; for a command that
 * ends within a few milliseconds, just before `exit`), then `exit` (code, signal) — or `error` (an Error with
 * `code`, like ENOENT) when it could not start or its helper died.
 */
export interface RemoteChild extends EventEmitter {
  pid: number | undefined;
}

type HelperMessage =
  | { t: 'ready' }
  | { t: 'pid'; id: number; pid: number }
  | { t: 'exit'; id: number; pid: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: 'error'; id: number; code: string; message: string };

class Helper {
  readonly process: ChildProcess;
  ready = false;
  dead = false;
  readonly inFlight = new Map<number, RemoteChild>();
  readonly envIds = new Map<Record<string, string>, number>();
  #nextEnvId = 1;
  readonly #seenOnce = new WeakSet<Record<string, string>>();

  readonly #onIdle: () => void;

  constructor(onGone: (helper: Helper) => void, onIdle: () => void) {
    this.#onIdle = onIdle;
    this.process = fork(HELPER, [], {
      // Its own small heap, whatever flags dvm runs with: the smaller the process, the faster its forks.
      execArgv: ['--max-semi-space-size=1'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.process.on('message', (m: HelperMessage) => this.#receive(m));
    const gone = () => {
      if (this.dead) return;
      this.dead = true;
      onGone(this);
      for (const [id, child] of this.inFlight) {
        this.inFlight.delete(id);
        child.emit(
          'error',
          Object.assign(new Error('the process that started this command ended unexpectedly'), {
            code: 'EHELPER',
          }),
        );
      }
    };
    this.process.on('exit', gone);
    this.process.on('error', gone);
    this.#idle();
  }

  #receive(m: HelperMessage): void {
    if (m.t === 'ready') {
      this.ready = true;
      return;
    }
    const child = this.inFlight.get(m.id);
    if (!child) return;
    if (m.t === 'pid') {
      child.pid = m.pid;
      child.emit('spawn', m.pid);
      return;
    }
    this.inFlight.delete(m.id);
    if (this.inFlight.size === 0) this.#idle();
    if (m.t === 'exit') {
      if (child.pid === undefined) {
        child.pid = m.pid;
        child.emit('spawn', m.pid);
      }
      child.emit('exit', m.code, m.signal);
    } else child.emit('error', Object.assign(new Error(m.message), { code: m.code }));
  }

  // An idle helper must not keep dvm running.
  #idle(): void {
    this.process.unref();
    this.process.channel?.unref();
    this.#onIdle();
  }

  #busy(): void {
    this.process.ref();
    this.process.channel?.ref();
  }

  send(id: number, spec: RemoteSpawn, child: RemoteChild): void {
    if (this.inFlight.size === 0) this.#busy();
    this.inFlight.set(id, child);
    let env: number | Record<string, string> | undefined = this.envIds.get(spec.env);
    if (env === undefined && !this.#seenOnce.has(spec.env)) {
      // An environment used once (a task with its own results directory) travels with its spawn.
      this.#seenOnce.add(spec.env);
      env = spec.env;
    } else if (env === undefined) {
      // One used again (a run's shared environment) is sent once and named by id from then on.
      env = this.#nextEnvId++;
      if (this.envIds.size >= KEPT_ENVS) {
        const [oldest, oldestId] = this.envIds.entries().next().value as [Record<string, string>, number];
        this.envIds.delete(oldest);
        this.process.send({ t: 'forget', id: oldestId });
      }
      this.envIds.set(spec.env, env);
      this.process.send({ t: 'env', id: env, env: spec.env });
    }
    this.process.send({ t: 'spawn', id, argv: spec.argv, cwd: spec.cwd, env, log: spec.logPath });
  }
}

/**
 * Small helper processes that start commands for dvm (see spawn-helper.mjs): fork() costs grow with the size of
 * the process that calls it, and two helpers fork on two cores at once, where dvm forks one command at a time.
 * Helpers start in the background on first use; until one is ready, `spawn` returns undefined and the caller
 * starts the command itself. A helper that dies fails its commands (EHELPER) and is replaced on next use.
 */
export class SpawnPool {
  readonly #helpers: Helper[] = [];
  readonly #size: number;
  readonly #idleStopMs: number;
  #idleTimer: NodeJS.Timeout | undefined;
  #nextId = 1;

  /** A pool of `size` helpers that stop after `idleStopMs` without a command (default 30 s). */
  constructor(
    size = Math.max(1, Math.min(4, availableParallelism())),
    options: { idleStopMs?: number } = {},
  ) {
    this.#size = size;
    this.#idleStopMs = options.idleStopMs ?? IDLE_STOP_MS;
  }

  /** Starts the helpers (in the background) if they are not running. */
  warm(): void {
    while (this.#helpers.length < this.#size) {
      this.#helpers.push(
        new Helper(
          (gone) => {
            const at = this.#helpers.indexOf(gone);
            if (at >= 0) this.#helpers.splice(at, 1);
          },
          () => this.#whenIdle(),
        ),
      );
    }
  }

  // Once no helper runs a command, stopping them all is scheduled; the next spawn cancels it.
  #whenIdle(): void {
    if (this.#helpers.some((h) => h.inFlight.size > 0)) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#helpers.every((h) => h.inFlight.size === 0)) this.close();
    }, this.#idleStopMs);
    this.#idleTimer.unref();
  }

  /** Helpers running now (started or starting), for tests. */
  get size(): number {
    return this.#helpers.length;
  }

  /** True once a helper can take commands. */
  get ready(): boolean {
    return this.#helpers.some((h) => h.ready && !h.dead);
  }

  /** Starts a command through the least busy ready helper; undefined when none is ready yet (start it directly). */
  spawn(spec: RemoteSpawn): RemoteChild | undefined {
    clearTimeout(this.#idleTimer);
    this.warm();
    let best: Helper | undefined;
    for (const h of this.#helpers) {
      if (h.ready && !h.dead && (!best || h.inFlight.size < best.inFlight.size)) best = h;
    }
    if (!best) return undefined;
    const child = new EventEmitter() as RemoteChild;
    child.pid = undefined;
    best.send(this.#nextId++, spec, child);
    return child;
  }

  /** Stops the helpers; commands still running fail with EHELPER (their callers stop them). */
  close(): void {
    clearTimeout(this.#idleTimer);
    for (const h of this.#helpers.splice(0)) h.process.kill();
  }
}
