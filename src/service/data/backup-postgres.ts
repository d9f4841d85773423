// PostgreSQL backups with the client tools (pg_dump / pg_restore) as argv, the password only in PGPASSWORD.
import { execFile } from 'node:child_process';
import { delimiter } from 'node:path';
import { DvmError } from '../../errors/dvm-error.ts';
import { findExecutable } from '../../runtime/process/process-runtime.ts';
import { expandBinPaths } from '../deps/service-spec.ts';
import { scrub, stderrTail } from './backup-errors.ts';
import type { PostgresTarget } from './connection.ts';

/** Where the PostgreSQL client tools are looked for before PATH (Debian/Ubuntu layout, highest version first). */
const PG_BIN_PATHS = ['/usr/lib/postgresql/*/bin'];

/** Writes a pg_dump (custom format) of the target database to `file`. */
export async function dumpPostgres(target: PostgresTarget, file: string, binPaths?: string[]): Promise<void> {
  const bin = await findPgTool('pg_dump', binPaths);
  await runPgTool(target, bin, 'pg_dump', [
    '--format=custom',
    '--no-password',
    '--file',
    file,
    ...connectionArgs(target),
  ]);
}

/** Restores a pg_dump file into the target database with pg_restore (in one transaction). */
export async function restorePostgres(
  target: PostgresTarget,
  file: string,
  clean: boolean,
  binPaths?: string[],
) {
  const bin = await findPgTool('pg_restore', binPaths);
  await runPgTool(target, bin, 'pg_restore', [
    ...(clean ? ['--clean', '--if-exists'] : []),
    '--no-owner',
    '--single-transaction',
    '--no-password',
    ...connectionArgs(target),
    file,
  ]);
}

function connectionArgs(target: PostgresTarget): string[] {
  return [
    '--host',
    target.host,
    '--port',
    String(target.port),
    '--username',
    target.user,
    '--dbname',
    target.database,
  ];
}

type Version = [number, number];

/**
 * The PostgreSQL client tool of the highest version: binPaths (default /usr/lib/postgresql/<v>/bin, highest
 * first), then PATH. pg_dump refuses servers newer than itself, so the newest installed one is the safe choice.
 */
async function findPgTool(name: string, binPaths?: string[]): Promise<string> {
  const dirs = [...expandBinPaths(binPaths ?? PG_BIN_PATHS), ...(process.env.PATH ?? '').split(delimiter)];
  const candidates: string[] = [];
  for (const dir of dirs) {
    if (!dir) continue;
    const found = findExecutable(name, dir);
    if (found && !candidates.includes(found)) candidates.push(found);
  }
  let best: { bin: string; version: Version } | undefined;
  for (const bin of candidates) {
    const version = await toolVersion(bin);
    if (!version) continue;
    if (!best || compareVersions(version, best.version) > 0) best = { bin, version };
  }
  if (!best) {
    throw new DvmError(
      'DVM_BINARY_NOT_FOUND',
      `${name} is not installed (looked in ${dirs.filter(Boolean).join(':')})`,
      {
        fix: `Install the PostgreSQL client tools: the Debian package postgresql-client (apt-get install postgresql-client), of a major version at least the server's.`,
        details: { binary: name },
      },
    );
  }
  return best.bin;
}

function toolVersion(bin: string): Promise<Version | undefined> {
  return new Promise((done) => {
    execFile(bin, ['--version'], { timeout: 10_000 }, (error, stdout) => {
      const match =
        /\)\s*(\d+)(?:\.(\d+))?/.exec(String(stdout)) ?? /\b(\d+)(?:\.(\d+))?/.exec(String(stdout));
      done(error || !match ? undefined : [Number(match[1]), Number(match[2] ?? 0)]);
    });
  });
}

function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Runs a pg tool as argv (no shell); the password goes in PGPASSWORD only. */
function runPgTool(target: PostgresTarget, bin: string, name: string, args: string[]): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT ?? '10' };
  if (target.password) env.PGPASSWORD = target.password;
  return new Promise((done, fail) => {
    execFile(bin, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return done();
      const status = (error as NodeJS.ErrnoException & { code?: unknown }).code;
      const tail = stderrTail(String(stderr ?? ''), target.password) || scrub(error.message, target.password);
      const newer = /server version: (\d+)/.exec(tail);
      fail(
        new DvmError(
          'DVM_BACKUP_FAILED',
          `${name} failed for ${target.label} (${target.host}:${target.port}/${target.database})` +
            `${typeof status === 'number' ? `, exit ${status}` : ''}: ${tail}`,
          {
            fix: newer
              ? `Install the client tools of PostgreSQL ${newer[1]} or newer (Debian package postgresql-client-${newer[1]}).`
              : 'Check that the dependency runs and that its host, port, user and password are right, then try again.',
            details: { engine: 'postgres', tool: bin },
          },
        ),
      );
    });
  });
}
