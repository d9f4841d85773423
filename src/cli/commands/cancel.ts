import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DvmError } from '../../errors/dvm-error.ts';
import { cancelRequestPath } from '../../service/run/cancel-requests.ts';
import { notARun, reapInterrupted } from '../../service/run/run-service.ts';
import { FINAL_STATUSES } from '../../store/runs.ts';
import type { Command } from '../command.ts';

/** `dvm cancel run ID`: ask the process that owns a run to cancel it (tasks stopped, process groups killed). */
export const command: Command = {
  summary: 'Cancel a running run',
  usage:
    'Usage: dvm cancel run ID\n\nLeaves a cancel request that the process owning the run (dvm run or dvm serve) picks up within\na quarter second: it stops every task (whole process groups), tasks not started end Cancelled, then the\nfinally tasks run and the run records Cancelled. Cancelling again stops the finally tasks too.',
  flags: [],
  maxArgs: 2,
  async run(ctx) {
    const [what, id] = ctx.positionals;
    if (what !== 'run' || !id)
      throw new DvmError('DVM_USAGE', 'usage: dvm cancel run ID', {
        fix: 'Run `dvm get runs` to list runs.',
      });
    const platform = await ctx.platform();
    await reapInterrupted(platform.runs);
    const root = platform.runs.get(id);
    if (!root || root.parentId) throw notARun(root, id, 'cancel');
    if (FINAL_STATUSES.has(root.status)) {
      ctx.io.stdout.write(`run ${id} already ended: ${root.status}\n`);
      return 0;
    }
    const request = cancelRequestPath(platform.home, id);
    mkdirSync(dirname(request), { recursive: true });
    writeFileSync(request, `${new Date().toISOString()}\n`);
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      const current = platform.runs.get(id);
      if (current && FINAL_STATUSES.has(current.status)) {
        ctx.io.stdout.write(`run ${id} ${current.status}\n`);
        return 0;
      }
      await reapInterrupted(platform.runs);
    }
    if (!existsSync(request)) {
      // Its owner took the request: the tasks were stopped, and what still runs are its finally tasks.
      ctx.io.stdout.write(
        `run ${id} cancelled; its finally tasks still run (\`dvm cancel run ${id}\` again stops them)\n`,
      );
      return 0;
    }
    throw new DvmError('DVM_TIMEOUT', `run ${id} did not stop within 10 s`, {
      fix: `Its finally tasks may still run: \`dvm cancel run ${id}\` again stops them. Else check process ${root.pid}; dvm marks the run Interrupted once it is gone.`,
    });
  },
};
