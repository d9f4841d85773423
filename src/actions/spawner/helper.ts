import type { ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';

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

/** What a helper tells about one command: it runs (pid), it ended, or it could not start. */
export type HelperMessage =
  | { t: 'ready' }
  // Started, pid not told yet (the native helper): if the helper dies before telling it, dvm stops the group.
  | { t: 'started'; id: number; pid: number }
  | { t: 'pid'; id: number; pid: number }
  | { t: 'exit'; id: number; pid: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: 'error'; id: number; code: string; message: string };

// Environments kept by each helper (named by id); older ones are forgotten.
const KEPT_ENVS = 16;

/**
 * A process that starts commands for dvm. Subclasses say how it starts and how messages travel; this class keeps
 * the commands in flight, names environments used again by id, and keeps an idle helper from holding dvm open.
 */
export abstract class Helper {
  ready = false;
  dead = false;
  /** When it was started (performance.now()): one never ready is stopped after a while. */
  readonly startedAt = performance.now();
  readonly inFlight = new Map<number, RemoteChild>();
  // Pids of commands in flight that started but whose pid was not told yet ('started' messages).
  readonly #untold = new Map<number, number>();
  readonly #envIds = new Map<Record<string, string>, number>();
  #nextEnvId = 1;
  readonly #seenOnce = new WeakSet<Record<string, string>>();
  readonly #onGone: (helper: Helper) => void;
  readonly #onIdle: () => void;

  /** The helper's own process. */
  abstract readonly process: ChildProcess;

  protected constructor(onGone: (helper: Helper) => void, onIdle: () => void) {
    this.#onGone = onGone;
    this.#onIdle = onIdle;
  }

  /** Wires the helper's process once it exists: its end fails the commands in flight. */
  protected watch(): void {
    const gone = () => this.gone('the process that started this command ended unexpectedly');
    // 'close', not 'exit': what it wrote before it died is read first (a command's end, its pid).
    this.process.on('close', gone);
    this.process.on('error', gone);
    this.#idle();
  }

  /** Marks the helper dead and fails every command in flight with EHELPER. */
  protected gone(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.#onGone(this);
    for (const [id, child] of this.inFlight) {
      this.inFlight.delete(id);
      const untold = this.#untold.get(id);
      if (child.pid === undefined && untold !== undefined) {
        // It runs: its caller stops its group, as for a command whose pid was told.
        child.pid = untold;
        child.emit('spawn', untold);
      }
      child.emit('error', Object.assign(new Error(reason), { code: 'EHELPER' }));
    }
    this.#untold.clear();
  }

  /** Hands a message from the helper to the command it concerns. */
  protected receive(m: HelperMessage): void {
    if (m.t === 'ready') {
      this.ready = true;
      // The idle time counts from here: a helper slow to start is not stopped before it could take a command.
      if (this.inFlight.size === 0) this.#onIdle();
      return;
    }
    const child = this.inFlight.get(m.id);
    if (!child) return;
    if (m.t === 'started') {
      this.#untold.set(m.id, m.pid);
      return;
    }
    this.#untold.delete(m.id);
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

  /** Keeps (or, when idle, stops keeping) dvm's event loop alive for this helper. */
  protected abstract hold(held: boolean): void;
  /** Sends an environment to keep under id. */
  protected abstract keepEnv(id: number, env: Record<string, string>): void;
  /** Tells the helper to forget environment id. */
  protected abstract forgetEnv(id: number): void;
  /** Sends the command; env is a kept environment's id or the environment itself. */
  protected abstract start(id: number, spec: RemoteSpawn, env: number | Record<string, string>): void;

  // An idle helper must not keep dvm running.
  #idle(): void {
    this.hold(false);
    this.#onIdle();
  }

  /** Starts spec through this helper; child gets its events. */
  send(id: number, spec: RemoteSpawn, child: RemoteChild): void {
    if (this.inFlight.size === 0) this.hold(true);
    this.inFlight.set(id, child);
    let env: number | Record<string, string> | undefined = this.#envIds.get(spec.env);
    if (env === undefined && !this.#seenOnce.has(spec.env)) {
      // An environment used once (a task with its own results directory) travels with its spawn.
      this.#seenOnce.add(spec.env);
      env = spec.env;
    } else if (env === undefined) {
      // One used again (a run's shared environment) is sent once and named by id from then on.
      env = this.#nextEnvId++;
      if (this.#envIds.size >= KEPT_ENVS) {
        const [oldest, oldestId] = this.#envIds.entries().next().value as [Record<string, string>, number];
        this.#envIds.delete(oldest);
        this.forgetEnv(oldestId);
      }
      this.#envIds.set(spec.env, env);
      this.keepEnv(env, spec.env);
    }
    this.start(id, spec, env);
  }

  /** Stops the helper's process (SIGKILL: it ignores the signals that reach dvm's whole process group). */
  stop(): void {
    this.process.kill('SIGKILL');
  }
}
