// Redis backups: every key's DUMP payload and TTL as JSON Lines, restored with RESTORE … REPLACE.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { RedisClientType } from 'redis';
import { DvmError } from '../../errors/dvm-error.ts';
import { reason, scrub } from './backup-errors.ts';
import type { RedisTarget } from './connection.ts';
import { connectRedis } from './redis-seeder.ts';

const SCAN_COUNT = 1000;
const BATCH = 1000;

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

/** Writes every key of the target database as JSON Lines of DUMP payloads and TTLs to `file`. */
export async function dumpRedis(target: RedisTarget, file: string): Promise<void> {
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

/** Restores a JSON Lines backup with RESTORE … REPLACE (FLUSHDB first when clean); returns the key count. */
export async function restoreRedis(target: RedisTarget, file: string, clean: boolean): Promise<number> {
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
