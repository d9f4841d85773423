import { type ChildProcess, fork } from 'node:child_process';
import { Helper, type HelperMessage, type RemoteSpawn } from './helper.ts';

const SCRIPT = new URL('./spawn-helper.mjs', import.meta.url).pathname;

/** A small Node process (spawn-helper.mjs) that starts commands for dvm, over Node's IPC channel. */
export class NodeHelper extends Helper {
  readonly process: ChildProcess;

  /** Starts the helper; onGone when it dies, onIdle when its last command ended. */
  constructor(onGone: (helper: Helper) => void, onIdle: () => void) {
    super(onGone, onIdle);
    this.process = fork(SCRIPT, [], {
      // Its own small heap, whatever flags dvm runs with: the smaller the process, the faster its forks.
      execArgv: ['--max-semi-space-size=1'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.process.on('message', (m: HelperMessage) => this.receive(m));
    this.watch();
  }

  protected hold(held: boolean): void {
    if (held) {
      this.process.ref();
      this.process.channel?.ref();
    } else {
      this.process.unref();
      this.process.channel?.unref();
    }
  }

  protected keepEnv(id: number, env: Record<string, string>): void {
    this.process.send({ t: 'env', id, env });
  }

  protected forgetEnv(id: number): void {
    this.process.send({ t: 'forget', id });
  }

  protected start(id: number, spec: RemoteSpawn, env: number | Record<string, string>): void {
    this.process.send({ t: 'spawn', id, argv: spec.argv, cwd: spec.cwd, env, log: spec.logPath });
  }
}
