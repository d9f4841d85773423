import type { Placement } from '../model/api.ts';
import type { Platform } from '../service/platform.ts';
import type { FlagName, Flags } from './args.ts';
import type { CommandIo } from './io.ts';

/** What a command gets: its arguments, flags, streams, and lazy access to the platform and scope. */
export interface CommandContext {
  verb: string;
  positionals: string[];
  flags: Flags;
  io: CommandIo;
  home: string;
  /** Opens the store (once) and loads the kinds. */
  platform(): Promise<Platform>;
  /** The context (`dvm use`) overridden by -e/-d/-a/-w. */
  scope(): Promise<Placement>;
}

/** One verb of the CLI. */
export interface Command {
  /** One line: the synopsis shown by `dvm help`. */
  summary: string;
  /** Usage text shown by `dvm VERB --help`. */
  usage: string;
  /** Flags this verb accepts besides the global scope flags. */
  flags: readonly FlagName[];
  /**
   * How many positional arguments the verb takes at most (given the ones it got, for verbs with subcommands); more
   * is DVM_USAGE, as in kubectl. Unset: any number (`get KIND NAME…`).
   */
  maxArgs?: number | ((positionals: readonly string[]) => number);
  /** Exit status of any error (the code's own when unset): `diff` keeps 1 for "something differs". */
  errorExit?: number;
  run(ctx: CommandContext): Promise<number>;
}
