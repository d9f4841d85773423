import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceState, ServiceSpec } from '../types.ts';

/** What the supervisor of a process instance records in its state file. */
export interface ProcessState extends InstanceState {
  /** Kernel start time of `pid`, to tell it from a reused pid. */
  pidStart?: string;
  supervisorPid?: number;
  supervisorStart?: string;
  /** Why the last start failed (binary missing, bad workdir), when it did. */
  error?: string;
}

/** Files of one process instance under `<home>/instances/<id>/`. */
export function instancePaths(root: string, id: string) {
  const dir = join(root, id);
  return {
    dir,
    spec: join(dir, 'spec.json'),
    state: join(dir, 'state.json'),
    log: join(dir, 'output.log'),
    supervisorLog: join(dir, 'supervisor.log'),
  };
}

/** Writes JSON atomically (temp file + rename), so a reader never sees half a file. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Reads a JSON file, or undefined when it is missing or unreadable. */
export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Saves the spec an instance runs, creating its directory. */
export function writeSpec(root: string, spec: ServiceSpec): void {
  const paths = instancePaths(root, spec.id);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  writeJsonAtomic(paths.spec, spec);
}
