import { DvmError } from './dvm-error.ts';

// What to do about a file-system error, by errno.
const FS_FIXES: Record<string, string> = {
  EACCES: 'Check the permissions of the path (and of the directories above it) for this user.',
  EPERM: 'Check the permissions of the path for this user.',
  ENOENT: 'Check that the path exists (its directory too).',
  ENOTDIR: 'A part of the path is a file, not a directory: check the path (and DVM_HOME).',
  EISDIR: 'The path is a directory: give a file.',
  EEXIST:
    'Something else already has that name (a file where a directory should be?): move it or pick another path.',
  ENOSPC: 'The disk (or device) is full: free space, or write somewhere else.',
  EROFS: 'The file system is read-only: use a writable location (DVM_HOME, -f).',
  EMFILE: 'Too many open files: raise the limit (ulimit -n) or close other programs.',
  EIO: 'The device answered with an I/O error (a failing disk, or a special file such as one in /proc): use a regular file on a healthy disk.',
};

/**
 * Turns an error that is not dvm's own but comes from the machine — a file-system call refused (EACCES, ENOSPC, …) or
 * SQLite refusing its database (read-only, malformed) — into a coded error naming the path and the fix; undefined
 * for anything else (a bug in dvm, reported as DVM_INTERNAL).
 */
export function systemError(error: unknown): DvmError | undefined {
  if (!(error instanceof Error)) return undefined;
  const errno = error as NodeJS.ErrnoException & { errstr?: string; errcode?: number };
  if (errno.code && FS_FIXES[errno.code] && typeof errno.syscall === 'string') {
    const path = errno.path ? ` ${errno.path}` : '';
    return new DvmError('DVM_IO_ERROR', `cannot ${errno.syscall}${path}: ${errno.code}`, {
      fix: FS_FIXES[errno.code],
      ...(errno.path ? { file: errno.path } : {}),
      details: { errno: errno.code, syscall: errno.syscall },
    });
  }
  if (errno.code === 'ERR_SQLITE_ERROR') {
    // SQLITE_READONLY: the files (or DVM_HOME) lost their write permission; the write did not happen, and can once
    // fixed — an agent reports itself unavailable meanwhile, as on a full disk.
    if (errno.errcode === 8 || /readonly database/i.test(error.message)) {
      return new DvmError('DVM_STORE_UNAVAILABLE', `the store cannot be written: ${error.message}`, {
        fix: 'Make DVM_HOME and its database files (the .db, -wal and -shm) writable for this user, then try again.',
        details: { sqlite: errno.errstr ?? error.message },
      });
    }
    // SQLITE_FULL and SQLITE_IOERR: the write did not happen (the transaction rolled back), and can once fixed.
    if (errno.errcode === 13 || errno.errcode === 10 || /disk is full|disk I\/O error/i.test(error.message)) {
      return new DvmError('DVM_STORE_UNAVAILABLE', `the database cannot be written: ${error.message}`, {
        fix: 'Free disk space where DVM_HOME is (df -h "$DVM_HOME") or check the disk for errors, then try again (the agent answers a repeated request_id whose action ran; it never runs it twice).',
        details: { sqlite: errno.errstr ?? error.message },
      });
    }
    // SQLITE_BUSY and SQLITE_LOCKED: another connection held the write lock for longer than the busy timeout.
    if (errno.errcode === 5 || errno.errcode === 6 || /database (table )?is locked/i.test(error.message)) {
      return new DvmError(
        'DVM_STORE_UNAVAILABLE',
        `the database is locked by another process: ${error.message}`,
        {
          fix: 'Another process holds its write lock (a long dvm command, an sqlite3 shell on the file?): let it finish, then try again.',
          details: { sqlite: errno.errstr ?? error.message },
        },
      );
    }
    // A table or column dropped or renamed outside dvm: the store's schema is not what its version says.
    if (/no such (table|column)/i.test(error.message)) {
      return new DvmError('DVM_STORE_CORRUPT', `the store was changed outside dvm: ${error.message}`, {
        fix: 'Restore DVM_HOME from a backup (keep a copy of the changed database for investigation).',
        details: { sqlite: errno.errstr ?? error.message },
      });
    }
    if (/malformed|not a database|file is encrypted/i.test(error.message)) {
      return new DvmError('DVM_STORE_CORRUPT', `the store is damaged: ${error.message}`, {
        fix: 'Restore DVM_HOME from a backup (the database file may be damaged; keep a copy before changing it).',
      });
    }
  }
  return undefined;
}
