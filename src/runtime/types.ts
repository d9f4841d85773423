/** A port of a service: the port it listens on inside its runtime, and the one reachable on the host. */
export interface ServicePort {
  containerPort: number;
  hostPort: number;
}

/** A host directory the service keeps its data in, and where the service sees it. */
export interface ServiceVolume {
  name: string;
  hostPath: string;
  mountPath: string;
}

/** What to run: one long-lived service (a dependency instance or a live app), already resolved for a runtime. */
export interface ServiceSpec {
  /** Stable id, unique per dvm home: names the process state directory or the container. */
  id: string;
  /** Who this is, for messages: `Dependency platform-db (Ecosystem quickstart)`. */
  owner: string;
  /** Argv to run; for docker it overrides the image's command (empty = the image's own). */
  argv: string[];
  /** Container image (docker). */
  image?: string;
  env: Record<string, string>;
  ports: ServicePort[];
  volumes: ServiceVolume[];
  workdir?: string;
  /** User to run as (a name or uid); the process runtime applies it only when dvm runs as root. */
  user?: string;
  /** Restart on exit: `no`, `on-failure` (exit status not 0) or `always` (until stopped). */
  restart: 'no' | 'on-failure' | 'always';
  /** Limits the runtime enforces where it can (docker: memory and CPU; process: memory via RLIMIT_AS). */
  resources?: { memoryBytes?: number; nanoCpus?: number };
  /** Hash of everything above: a running instance with another hash is out of date. */
  specHash: string;
}

/** What a runtime knows about one instance right now. */
export interface InstanceState {
  id: string;
  runtime: RuntimeName;
  /** `running`, `restarting` (crashed, waiting out its backoff), `exited` or `stopped` (by dvm). */
  status: 'running' | 'restarting' | 'exited' | 'stopped';
  pid?: number;
  containerId?: string;
  startedAt?: string;
  exitCode?: number;
  /** Restarts after crashes since the instance was started by dvm. */
  restarts: number;
  specHash?: string;
  /** Where its output goes (process runtime). */
  logPath?: string;
}

/** The runtimes dvm implements. */
export type RuntimeName = 'process' | 'docker';

/** Options of reading an instance's output. */
export interface LogOptions {
  follow?: boolean;
  /** Only the last N lines (before following). */
  tail?: number;
  signal?: AbortSignal;
}

/** One way to run services: local processes or containers. Every method is safe to call again (idempotent). */
export interface Runtime {
  readonly name: RuntimeName;
  /**
   * Starts the service unless an instance with this id already runs the same spec (then it is adopted as is);
   * an instance running an older spec is replaced. Resolves once the process or container has started.
   */
  start(spec: ServiceSpec): Promise<InstanceState>;
  /** Stops the instance (SIGTERM, then SIGKILL after graceMs) and keeps its data and logs. */
  stop(id: string, options?: { graceMs?: number }): Promise<void>;
  /** Stops the instance and forgets it (state, container); volumes stay. */
  remove(id: string): Promise<void>;
  /** The instance's state, or undefined when the runtime has never heard of it. */
  inspect(id: string): Promise<InstanceState | undefined>;
  /** Every instance of this dvm home the runtime knows. */
  list(): Promise<InstanceState[]>;
  /** Runs argv next to the instance (process: on the host; docker: inside the container); the exit status. */
  exec(id: string, argv: string[], timeoutMs: number): Promise<number>;
  /** The instance's output, line by line; with follow, until the signal aborts. */
  logs(id: string, options?: LogOptions): AsyncIterable<string>;
  /** Kills the instance's main process as a crash would (SIGKILL), leaving the restart policy to act. */
  kill(id: string): Promise<void>;
}
