// Errors of backups and restores: coded, with the password never in a message.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { DataTarget } from './connection.ts';

/** Creates the backup file's directory (0700), or fails with DVM_BACKUP_FAILED. */
export async function ensureDirectory(path: string, target: DataTarget): Promise<void> {
  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new DvmError(
      'DVM_BACKUP_FAILED',
      `cannot back up ${target.label}: cannot create ${dir}: ${reason(error)}`,
      {
        fix: 'Choose a backup path in a directory you can write to.',
        details: { file: path, engine: target.engine },
      },
    );
  }
}

/** A coded DVM_BACKUP_FAILED for any failure, with the password scrubbed (coded errors pass through). */
export function asBackupError(error: unknown, target: DataTarget, what: string): DvmError {
  if (isDvmError(error)) {
    if (error.code === 'DVM_BACKUP_FAILED' || error.code === 'DVM_BINARY_NOT_FOUND') return error;
  }
  return new DvmError('DVM_BACKUP_FAILED', `cannot ${what}: ${scrub(reason(error), target.password)}`, {
    fix: 'Check that the dependency runs and the backup path is writable, then try again.',
    details: { engine: target.engine },
  });
}

/** An error's message. */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The last lines of a tool's stderr (at most 2000 characters), without the password. */
export function stderrTail(stderr: string, password?: string): string {
  const lines = stderr.trim().split('\n').slice(-20).join('\n');
  return scrub(lines.length > 2000 ? `…${lines.slice(-2000)}` : lines, password);
}

/** The text with every occurrence of the password replaced by ***. */
export function scrub(text: string, password?: string): string {
  return password ? text.split(password).join('***') : text;
}
