import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` every 25 ms until it holds; fails with "timed out waiting for WHAT" after `ms` (a loaded machine is slow, not wrong). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
