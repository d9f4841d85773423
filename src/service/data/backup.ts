import { randomBytes } from 'node:crypto';
import { chmod, open, rename, stat, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DvmError } from '../../errors/dvm-error.ts';
import { asBackupError, ensureDirectory, reason } from './backup-errors.ts';
import { dumpPostgres, restorePostgres } from './backup-postgres.ts';
import { dumpRedis, restoreRedis } from './backup-redis.ts';
import type { DataTarget } from './connection.ts';

/** What a backup wrote. */
export interface BackupResult {
  file: string;
  bytes: number;
  engine: string;
  durationMs: number;
}

/** What a restore did: `restored` is the key count for Redis (undefined for PostgreSQL). */
export interface RestoreResult {
  restored: number | undefined;
  durationMs: number;
}

const _BATCH = 1000;

/**
 * Backs up the target's data to `file`: PostgreSQL with `pg_dump --format=custom`, Redis as JSON Lines
 * `{"key", "ttl", "dump"}` (DUMP payloads, base64). The directory is created when missing; the file is
 * written atomically (temp file + rename) with mode 0600.
 */
export async function backupTarget(
  target: DataTarget,
  file: string,
  options: { binPaths?: string[] } = {},
): Promise<BackupResult> {
  const started = performance.now();
  const path = resolve(file);
  await ensureDirectory(path, target);
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    // Created empty with 0600 first: the writer truncates it and the mode stays, so the data is never readable to others.
    await (await open(temp, 'wx', 0o600)).close();
    if (target.engine === 'postgres') await dumpPostgres(target, temp, options.binPaths);
    else await dumpRedis(target, temp);
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw asBackupError(error, target, `back up ${target.label} to ${path}`);
  }
  const { size } = await stat(path);
  return {
    file: path,
    bytes: size,
    engine: target.engine,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Restores a backup made by backupTarget into the target. PostgreSQL: `pg_restore --no-owner` in one transaction,
 * with `--clean --if-exists` unless `clean` is false. Redis: FLUSHDB of the target database (unless `clean` is
 * false), then RESTORE … REPLACE per key; returns the key count.
 */
export async function restoreTarget(
  target: DataTarget,
  file: string,
  options: { clean?: boolean; binPaths?: string[] } = {},
): Promise<RestoreResult> {
  const started = performance.now();
  const path = resolve(file);
  const clean = options.clean !== false;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
  } catch (error) {
    throw new DvmError('DVM_BACKUP_FAILED', `cannot restore ${target.label}: ${path}: ${reason(error)}`, {
      fix: 'Name a backup file that backupTarget (dvm backup) wrote.',
      details: { file: path, engine: target.engine },
    });
  }
  let restored: number | undefined;
  try {
    if (target.engine === 'postgres') await restorePostgres(target, path, clean, options.binPaths);
    else restored = await restoreRedis(target, path, clean);
  } catch (error) {
    throw asBackupError(error, target, `restore ${target.label} from ${path}`);
  }
  return { restored, durationMs: Math.round(performance.now() - started) };
}
