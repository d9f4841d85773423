import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DvmError } from '../../errors/dvm-error.ts';
import { isAlive, processStartTime } from './proc.ts';

/**
 * Runs `work` holding an exclusive lock file (so two dvm processes never start the same instance twice). A lock
 * left by a process that is gone is taken over; a live holder is waited for up to `waitMs`.
 */
export async function withInstanceLock<T>(
  path: string,
  owner: string,
  work: () => Promise<T>,
  waitMs = 60_000,
): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const me = `${process.pid} ${processStartTime(process.pid) ?? ''}`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, me);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = '';
      try {
        holder = readFileSync(path, 'utf8');
      } catch {
        continue; // released between our open and read
      }
      const [pid, start] = holder.split(' ');
      if (!isAlive(Number(pid), start || undefined)) {
        rmSync(path, { force: true });
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
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}
