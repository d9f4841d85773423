import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates `dir` and its missing parents, like `mkdir -p`; a path that exists but is no directory is mkdir's EEXIST.
 * `mode` applies to `dir` itself when it is made here (parents get the default). Node's recursive mkdirSync loops for
 * ever where a parent exists but refuses new entries with ENOENT (under /proc); here each level is made once, and
 * that ENOENT is thrown.
 */
export function makeDirectories(dir: string, mode?: number): void {
  try {
    mkdirSync(dir, mode);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && statSync(dir).isDirectory()) return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
  }
  makeDirectories(dirname(dir));
  try {
    mkdirSync(dir, mode);
  } catch (error) {
    // Made meanwhile by another process: fine, as mkdir -p.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw error;
  }
}
