import { createHash } from 'node:crypto';
import { cp, glob, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CacheEntry } from '../store/runs.ts';

/** Content hashes of the files a task's `inputs` globs match, relative to its workdir (sorted by path). */
export async function hashInputs(
  workdir: string,
  patterns: readonly string[],
): Promise<Record<string, string>> {
  const files = new Set<string>();
  for (const pattern of patterns) for await (const file of glob(pattern, { cwd: workdir })) files.add(file);
  const hashes: Record<string, string> = {};
  for (const file of [...files].sort()) {
    try {
      hashes[file] = createHash('sha256')
        .update(await readFile(join(workdir, file)))
        .digest('hex');
    } catch {
      // A directory matched by a glob: its files are matched separately (or not at all).
    }
  }
  return hashes;
}

/** The fingerprint of a task run: everything that can change what it does, hashed. */
export function fingerprintOf(parts: {
  action: string;
  input: unknown;
  env: Record<string, string>;
  inputs: Record<string, string>;
  /** Declared outputs and results: a hit must restore everything the task now promises. */
  outputs: readonly string[];
  results: readonly unknown[];
}): string {
  return createHash('sha256')
    .update(
      JSON.stringify([parts.action, parts.input, parts.env, parts.inputs, parts.outputs, parts.results]),
    )
    .digest('hex');
}

/** Says what changed since the last run of a task, so a cache miss explains itself. */
export function explainMiss(
  previous: Record<string, string> | undefined,
  current: Record<string, string>,
): string {
  if (!previous) return 'first run with these inputs';
  const changed = Object.keys(current).filter((f) => previous[f] !== undefined && previous[f] !== current[f]);
  const added = Object.keys(current).filter((f) => previous[f] === undefined);
  const removed = Object.keys(previous).filter((f) => current[f] === undefined);
  const parts = [
    ...changed.slice(0, 5).map((f) => `${f} changed`),
    ...added.slice(0, 5).map((f) => `${f} added`),
    ...removed.slice(0, 5).map((f) => `${f} removed`),
  ];
  const more = changed.length + added.length + removed.length - parts.length;
  if (parts.length === 0)
    return 'inputs unchanged; the command, environment, upstream results or declared outputs/results changed';
  return `${parts.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** Copies the files matched by `outputs` into the cache directory of a fingerprint. */
export async function saveOutputs(
  workdir: string,
  patterns: readonly string[],
  target: string,
): Promise<void> {
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  for (const pattern of patterns) {
    for await (const file of glob(pattern, { cwd: workdir })) {
      await mkdir(dirname(join(target, file)), { recursive: true });
      await cp(join(workdir, file), join(target, file), { recursive: true });
    }
  }
}

/** Restores cached outputs into the workdir. */
export async function restoreOutputs(entry: CacheEntry, workdir: string): Promise<void> {
  if (entry.outputsDir) await cp(entry.outputsDir, workdir, { recursive: true, force: true });
}
