import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { delimiter, dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { RedisClientType } from 'redis';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { findExecutable } from '../../runtime/process/process-runtime.ts';
import { expandBinPaths } from '../deps/service-spec.ts';
import type { DataTarget, PostgresTarget, RedisTarget } from './connection.ts';
import { connectRedis } from './redis-seeder.ts';

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

/** Where the PostgreSQL client tools are looked for before PATH (Debian/Ubuntu layout, highest version first). */
const PG_BIN_PATHS = ['/usr/lib/postgresql/*/bin'];
const SCAN_COUNT = 1000;
const BATCH = 1000;

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

// ---------------------------------------------------------------- PostgreSQL

async function dumpPostgres(target: PostgresTarget, file: string, binPaths?: string[]): Promise<void> {
  const bin = await findPgTool('pg_dump', binPaths);
  await runPgTool(target, bin, 'pg_dump', [
    '--format=custom',
    '--no-password',
    '--file',
    file,
    ...connectionArgs(target),
  ]);
}

async function restorePostgres(target: PostgresTarget, file: string, clean: boolean, binPaths?: string[]) {
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

// ---------------------------------------------------------------- Redis

interface RedisLine {
  key: string;
  /** Set when the key is not valid UTF-8: `key` is then base64. */
  keyEncoding?: 'base64';
  ttl: number;
  dump: string;
}

async function openRedis(target: RedisTarget): Promise<RedisClientType> {
  try {
    return await connectRedis(target);
  } catch (error) {
    throw new DvmError('DVM_BACKUP_FAILED', scrub(reason(error), target.password), {
      fix: 'Start the dependency (or point the instance at a running one with env DVM_PORT) and check its password, then try again.',
      details: { engine: 'redis' },
    });
  }
}

async function bufferClient(client: RedisClientType) {
  const { RESP_TYPES } = await import('redis');
  return client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
}

async function dumpRedis(target: RedisTarget, file: string): Promise<void> {
  const client = await openRedis(target);
  const out = await open(file, 'w', 0o600);
  try {
    const raw = await bufferClient(client);
    const seen = new Set<string>();
    for await (const batch of raw.scanIterator({ COUNT: SCAN_COUNT })) {
      const keys = (batch as Buffer[]).filter((key) => {
        const id = key.toString('latin1');
        if (seen.has(id)) return false; // SCAN may return a key twice
        seen.add(id);
        return true;
      });
      const entries = await Promise.all(
        keys.map(async (key) => {
          const [ttl, dump] = await Promise.all([raw.pTTL(key), raw.dump(key)]);
          return { key, ttl: Number(ttl), dump: dump as Buffer | null };
        }),
      );
      let text = '';
      for (const { key, ttl, dump } of entries) {
        if (!dump || ttl === -2) continue; // gone since SCAN
        const utf8 = key.toString('utf8');
        const line: RedisLine = Buffer.from(utf8, 'utf8').equals(key)
          ? { key: utf8, ttl: ttl < 0 ? -1 : Math.max(ttl, 1), dump: dump.toString('base64') }
          : {
              key: key.toString('base64'),
              keyEncoding: 'base64',
              ttl: ttl < 0 ? -1 : Math.max(ttl, 1),
              dump: dump.toString('base64'),
            };
        text += `${JSON.stringify(line)}\n`;
      }
      if (text) await out.write(text);
    }
    await out.sync();
  } finally {
    await out.close().catch(() => {});
    await client.quit().catch(() => {});
  }
}

async function* readLines(file: string): AsyncGenerator<{ line: RedisLine; number: number }> {
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let number = 0;
  for await (const text of lines) {
    number++;
    if (!text.trim()) continue;
    let line: RedisLine;
    try {
      line = JSON.parse(text) as RedisLine;
    } catch {
      throw badLine(file, number, 'not JSON');
    }
    if (
      typeof line !== 'object' ||
      line === null ||
      typeof line.key !== 'string' ||
      typeof line.dump !== 'string' ||
      !Number.isInteger(line.ttl) ||
      (line.ttl < 1 && line.ttl !== -1)
    ) {
      throw badLine(file, number, 'expected {"key": string, "ttl": ms or -1, "dump": base64}');
    }
    yield { line, number };
  }
}

function badLine(file: string, number: number, why: string): DvmError {
  return new DvmError('DVM_BACKUP_FAILED', `${file}:${number} is not a Redis backup line: ${why}`, {
    file,
    line: number,
    fix: 'Restore a file that backupTarget wrote for a Redis target (JSON Lines of key, ttl and dump).',
  });
}

async function restoreRedis(target: RedisTarget, file: string, clean: boolean): Promise<number> {
  // Check the whole file before touching the database, so a broken file does not leave it flushed.
  let lines = 0;
  for await (const _line of readLines(file)) lines++;
  const client = await openRedis(target);
  try {
    const raw = await bufferClient(client);
    if (clean) await raw.flushDb();
    let restored = 0;
    if (lines === 0) return 0;
    let pending: Promise<unknown>[] = [];
    for await (const { line } of readLines(file)) {
      const key = line.keyEncoding === 'base64' ? Buffer.from(line.key, 'base64') : line.key;
      pending.push(
        raw.restore(key, line.ttl === -1 ? 0 : line.ttl, Buffer.from(line.dump, 'base64'), { REPLACE: true }),
      );
      restored++;
      if (pending.length >= BATCH) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    return restored;
  } finally {
    await client.quit().catch(() => {});
  }
}

// ---------------------------------------------------------------- helpers

async function ensureDirectory(path: string, target: DataTarget): Promise<void> {
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

function asBackupError(error: unknown, target: DataTarget, what: string): DvmError {
  if (isDvmError(error)) {
    if (error.code === 'DVM_BACKUP_FAILED' || error.code === 'DVM_BINARY_NOT_FOUND') return error;
  }
  return new DvmError('DVM_BACKUP_FAILED', `cannot ${what}: ${scrub(reason(error), target.password)}`, {
    fix: 'Check that the dependency runs and the backup path is writable, then try again.',
    details: { engine: target.engine },
  });
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The last lines of a tool's stderr (at most 2000 characters), without the password. */
function stderrTail(stderr: string, password?: string): string {
  const lines = stderr.trim().split('\n').slice(-20).join('\n');
  return scrub(lines.length > 2000 ? `…${lines.slice(-2000)}` : lines, password);
}

function scrub(text: string, password?: string): string {
  return password ? text.split(password).join('***') : text;
}
