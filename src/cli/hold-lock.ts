import { DvmError } from '../errors/dvm-error.ts';

/**
 * Takes the lock file at `path` for as long as the caller needs it, or fails at once with DVM_CONFLICT (`what` says
 * what the holder does; `fix` what to do) when a live process holds it; a lock whose holder is gone is taken over.
 * Resolves with the function that releases it.
 */
export async function holdLock(path: string, what: string, fix: string): Promise<() => void> {
  const { withInstanceLock } = await import('../runtime/process/instance-lock.ts');
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let taken!: () => void;
  const ready = new Promise<void>((resolve) => {
    taken = resolve;
  });
  const lock = withInstanceLock(
    path,
    what,
    async () => {
      taken();
      await held;
    },
    0,
  );
  await Promise.race([
    ready,
    lock.catch((error) => {
      const pid = /pid (\d+)/.exec((error as Error).message)?.[1];
      throw new DvmError('DVM_CONFLICT', `another dvm (pid ${pid ?? '?'}) ${what}`, { fix });
    }),
  ]);
  return release;
}
