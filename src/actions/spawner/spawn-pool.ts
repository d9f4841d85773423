import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { Helper, RemoteChild, RemoteSpawn } from './helper.ts';
import { NativeHelper, nativeSpawnerBuilt } from './native-helper.ts';
import { NodeHelper } from './node-helper.ts';

export type { RemoteChild, RemoteSpawn } from './helper.ts';

// Helpers with nothing to do for this long stop (a long-running `dvm serve` does not keep them); the next burst
// starts them again.
const IDLE_STOP_MS = 30_000;

// How long a helper may take to become ready before an idle pool stops it anyway (at least the idle time).
const HELPER_START_LIMIT_MS = 10_000;

// Node helpers fork on as many cores as there are, at most four; one native helper is enough (posix_spawn is cheap).
const sizeFor = (kind: SpawnerKind) =>
  kind === 'native' ? 1 : Math.max(1, Math.min(4, availableParallelism()));

/** Which helpers start commands: dvm-spawn (C, posix_spawn) or small Node processes. */
export type SpawnerKind = 'native' | 'node';

/** The native spawner when it was built and DVM_SPAWNER does not say `node`; else the Node helpers. */
export function defaultSpawnerKind(): SpawnerKind {
  if (process.env.DVM_SPAWNER === 'node') return 'node';
  return nativeSpawnerBuilt() ? 'native' : 'node';
}

/**
 * Helper processes that start commands for dvm: fork() costs grow with the size of the process that calls it.
 * The native helper (dvm-spawn) uses posix_spawn, which copies nothing, and one is enough; Node helpers fork, so
 * two fork on two cores at once. Helpers start in the background on first use; until one is ready, `spawn`
 * returns undefined and the caller starts the command itself. A helper that dies fails its commands (EHELPER)
 * and is replaced on next use; a native helper that is out of date is replaced by Node helpers.
 */
export class SpawnPool {
  readonly #helpers: Helper[] = [];
  #kind: SpawnerKind;
  #size: number;
  readonly #idleStopMs: number;
  readonly #startLimitMs: number;
  readonly #nativeBinary: string | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #nextId = 1;

  /**
   * A pool of `size` helpers of `kind` (default: the native one when built, else as many Node helpers as cores,
   * at most 4) that stop after `idleStopMs` without a command (default 30 s), or not ready after `startLimitMs` (default 10 s, at
   * least the idle time); `nativeBinary` replaces dvm-spawn (tests).
   */
  constructor(
    size?: number,
    options: { idleStopMs?: number; startLimitMs?: number; kind?: SpawnerKind; nativeBinary?: string } = {},
  ) {
    this.#nativeBinary = options.nativeBinary;
    this.#kind = options.kind ?? defaultSpawnerKind();
    this.#size = size ?? sizeFor(this.#kind);
    this.#idleStopMs = options.idleStopMs ?? IDLE_STOP_MS;
    this.#startLimitMs = Math.max(this.#idleStopMs, options.startLimitMs ?? HELPER_START_LIMIT_MS);
  }

  /** The kind of helpers this pool starts. */
  get kind(): SpawnerKind {
    return this.#kind;
  }

  /** Starts the helpers (in the background) if they are not running. */
  warm(): void {
    while (this.#helpers.length < this.#size) {
      const onGone = (gone: Helper) => {
        const at = this.#helpers.indexOf(gone);
        if (at >= 0) this.#helpers.splice(at, 1);
        // A native helper that never became ready (out of date, or it cannot run here): Node helpers from now on.
        if (at >= 0 && this.#kind === 'native' && !gone.ready) {
          this.#kind = 'node';
          this.#size = sizeFor('node');
          this.warm();
        }
      };
      const onIdle = () => this.#whenIdle();
      this.#helpers.push(
        this.#kind === 'native'
          ? new NativeHelper(onGone, onIdle, this.#nativeBinary)
          : new NodeHelper(onGone, onIdle),
      );
    }
  }

  // Once no helper runs a command, stopping them all is scheduled; the next spawn cancels it. A helper still starting
  // puts it off (once ready, it schedules it again), unless it has been starting for HELPER_START_LIMIT_MS: one that
  // never becomes ready is stopped, and the next spawn starts another.
  #whenIdle(): void {
    if (this.#helpers.some((h) => h.inFlight.size > 0)) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#helpers.some((h) => h.inFlight.size > 0)) return;
      const starting = this.#helpers.some(
        (h) => !h.ready && !h.dead && performance.now() - h.startedAt < this.#startLimitMs,
      );
      if (starting) return this.#whenIdle();
      this.#leaveHung();
      this.close();
    }, this.#idleStopMs);
    this.#idleTimer.unref();
  }

  // Whether a helper has been starting for longer than the start limit (hung).
  #hung(): boolean {
    return this.#helpers.some(
      (h) => !h.ready && !h.dead && performance.now() - h.startedAt >= this.#startLimitMs,
    );
  }

  // A native helper that never became ready (hung): Node helpers from now on.
  #leaveHung(): void {
    if (this.#kind === 'native' && this.#helpers.some((h) => !h.ready && !h.dead)) {
      this.#kind = 'node';
      this.#size = sizeFor('node');
    }
  }

  /** Helpers running now (started or starting), for tests. */
  get size(): number {
    return this.#helpers.length;
  }

  /** The process ids of the helpers running now (for tests). */
  get helperPids(): number[] {
    return this.#helpers.flatMap((h) => (h.process.pid === undefined ? [] : [h.process.pid]));
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
    // None ready yet: one starting for longer than the start limit is hung, and replaced now (commands coming one
    // after another would otherwise put its idle stop off for ever); the caller starts this command itself.
    if (!best) {
      if (this.#hung()) {
        this.#leaveHung();
        this.close();
        this.warm();
      }
      this.#whenIdle();
      return undefined;
    }
    const child = new EventEmitter() as RemoteChild;
    child.pid = undefined;
    best.send(this.#nextId++, spec, child);
    return child;
  }

  /** Stops the helpers; commands still running fail with EHELPER (their callers stop them). */
  close(): void {
    clearTimeout(this.#idleTimer);
    for (const h of this.#helpers.splice(0)) h.stop();
  }
}
