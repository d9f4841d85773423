import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The directory dvm keeps its state in: `$DVM_HOME`, else `~/.dvm`. */
export function dvmHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.DVM_HOME ? resolve(env.DVM_HOME) : join(homedir(), '.dvm');
}

/** Path of the embedded SQLite store inside a dvm home. */
export function storePath(home: string): string {
  return join(home, 'dvm.db');
}
