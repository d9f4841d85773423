import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DvmError } from '../../errors/dvm-error.ts';
import { isAlive, processStartTime } from './proc.ts';

function readOrEmpty(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

// Removes a lock whose holder is gone, unless another dvm replaced it in the meantime: the lock is renamed away
// (atomic), and put back when what was renamed is not the stale holder that was seen.
function removeStale(path: string, staleHolder: string): void {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // already gone
  }
  if (readOrEmpty(aside) !== staleHolder) {
    try {
      linkSync(aside, path);
    } catch {
      // A third dvm took the lock meanwhile; the one renamed away has lost it either way.
    }
  }
  rmSync(aside, { force: true });
}

// Scratch files (`LOCK.PID-RANDOM`) that a dvm killed while taking this lock left behind.
function removeOrphanedScratch(path: string): void {
  const prefix = `${basename(path)}.`;
  for (const entry of readdirSync(dirname(path))) {
    if (!entry.startsWith(prefix)) continue;
    const match = /^(\d+)-[0-9a-f]{12}$/.exec(entry.slice(prefix.length));
    if (match && !isAlive(Number(match[1]))) rmSync(join(dirname(path), entry), { force: true });
  }
}

/**
 * Runs `work` holding an exclusive lock file (so two dvm processes never start the same instance twice). The
 * lock appears with its holder already written in it (a hard link of a complete file), so no other dvm ever
 * reads it half-written. A lock left by a process that is gone is taken over; a live holder is waited for up
 * to `waitMs`.
 */
export async function withInstanceLock<T>(
  path: string,
  owner: string,
  work: () => Promise<T>,
  waitMs = 60_000,
): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  removeOrphanedScratch(path);
  const me = `${process.pid} ${processStartTime(process.pid) ?? ''}`;
  const mine = `${path}.${process.pid}-${randomBytes(6).toString('hex')}`;
  writeFileSync(mine, me, { mode: 0o600 });
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      try {
        linkSync(mine, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readOrEmpty(path);
      if (holder === undefined) continue; // released between our link and read
      const [pid, start] = holder.split(' ');
      if (!isAlive(Number(pid), start || undefined)) {
        removeStale(path, holder);
        continue;
      }
      if (Date.now() > deadline) {
        throw new DvmError(
          'DVM_RUNTIME_START',
          `${owner} is being started or stopped by another dvm (pid ${pid})`,
          {
            fix: `Wait for it, or stop that process; the lock is ${path}.`,
          },
        );
      }
      await sleep(50);
    }
  } finally {
    rmSync(mine, { force: true });
  }
  try {
    return await work();
  } finally {
    // Only our own lock is removed (a lock taken over as stale by another dvm is theirs now).
    if (readOrEmpty(path) === me) rmSync(path, { force: true });
  }
}
