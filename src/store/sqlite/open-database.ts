import { closeSync, existsSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DvmError } from '../../errors/dvm-error.ts';
import { makeDirectories } from './make-directories.ts';
import type { Migration } from './migrations.ts';
import { tightenLegacyModes } from './private-modes.ts';

/** Which database is opened, for messages (`the store`, `the agent database`). */
export interface DatabaseLabel {
  label: string;
}

function readVersion(db: DatabaseSync): number {
  return Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
}

/**
 * Opens (creating and migrating if needed) an SQLite database in WAL mode with `synchronous=FULL`; a database
 * written by a newer dvm (a higher `user_version` than the last migration) is refused and left untouched.
 */
export function openMigratedDatabase(
  path: string,
  migrations: readonly Migration[],
  { label }: DatabaseLabel,
): DatabaseSync {
  const latest = migrations[migrations.length - 1].version;
  if (path !== ':memory:') {
    // Its rows are the home's secrets' neighbours (results, events, the audit): only its owner reads them. SQLite
    // gives the -wal and -shm files the database file's mode.
    makeDirectories(dirname(path), 0o700);
    if (existsSync(path)) {
      assertNotNewer(path, latest, label);
      tightenLegacyModes(path);
    } else createPrivateFile(path);
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
  } catch (error) {
    throw openFailure('open', label, path, error);
  }
  migrate(db, path, migrations, latest, label);
  return db;
}

// An empty file (an empty database to SQLite) only its owner can read or write; one made meanwhile is kept as it is.
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'a', 0o600));
  } catch {
    // Opening it below reports what is wrong with the path.
  }
}

// Read the version with a read-only handle first so a newer database is never touched (not even WAL set-up).
function assertNotNewer(path: string, latest: number, label: string): void {
  let version: number;
  try {
    // Waits like every connection does (busy_timeout) while another process holds a lock (a write, a checkpoint).
    const probe = new DatabaseSync(path, { readOnly: true, timeout: 5000 });
    try {
      version = readVersion(probe);
    } finally {
      probe.close();
    }
  } catch (error) {
    throw openFailure('read', label, path, error);
  }
  if (version > latest) {
    throw new DvmError(
      'DVM_STORE_TOO_NEW',
      `${label} at ${path} has schema version ${version}, but this dvm knows versions up to ${latest}; it was left untouched`,
      {
        fix: 'Upgrade dvm, or point DVM_HOME at another directory.',
        details: { version, supported: latest },
      },
    );
  }
}

function migrate(
  db: DatabaseSync,
  path: string,
  migrations: readonly Migration[],
  latest: number,
  label: string,
): void {
  const current = readVersion(db);
  if (current > latest) {
    db.close();
    throw new DvmError(
      'DVM_STORE_TOO_NEW',
      `${label} at ${path} was written by a newer dvm (schema ${current})`,
      {
        fix: 'Upgrade dvm, or point DVM_HOME at another directory.',
      },
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have migrated while we waited for the lock.
      if (readVersion(db) >= migration.version) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${migration.version}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}

// Why a database could not be opened: a damaged or foreign file (move it aside), or files this user may not open or
// write (permissions: the file is fine, moving it aside would be the wrong advice).
function openFailure(verb: string, label: string, path: string, error: unknown): DvmError {
  const message = (error as Error).message;
  if (/not a database|malformed|file is encrypted/i.test(message)) {
    return new DvmError('DVM_STORE_CORRUPT', `cannot ${verb} ${label} at ${path}: ${message}`, {
      fix: 'Move the file aside (it may not be a dvm database) or point DVM_HOME elsewhere.',
    });
  }
  return new DvmError('DVM_IO_ERROR', `cannot ${verb} ${label} at ${path}: ${message}`, {
    file: path,
    fix: 'Check that DVM_HOME and its database files (the .db, -wal and -shm) are readable and writable for this user.',
  });
}
