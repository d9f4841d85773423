import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DvmError } from '../../errors/dvm-error.ts';
import { reapInterrupted } from '../../service/run/run-service.ts';
import { FINAL_STATUSES, type RunRecord } from '../../store/runs.ts';
import type { Command } from '../command.ts';

/** `dvm logs run ID [--task T] [-f]`: what the tasks of a run printed. */
export const command: Command = {
  summary: 'Print the logs of a run, a dependency instance or a live app; -f follows',
  usage: `Usage: dvm logs run ID [--task NAME] [-f]
       dvm logs dependency NAME [--tail N] [-f]
       dvm logs service APP [--tail N] [-f]

Prints each task's output under a header, in the order the tasks were planned. --task picks one task by
entry name or path (build/lint). -f keeps printing new output until the run ends.`,
  flags: ['task', 'follow', 'tail'],
  maxArgs: 2,
  async run(ctx) {
    const [what, id] = ctx.positionals;
    if ((what === 'dependency' || what === 'dep' || what === 'service' || what === 'svc') && id) {
      const { printServiceLogs } = await import('./service-logs.ts');
      return printServiceLogs(ctx, what === 'service' || what === 'svc' ? 'app' : 'dependency', id);
    }
    if (what !== 'run' || !id)
      throw new DvmError('DVM_USAGE', 'usage: dvm logs run ID [--task NAME] [-f]', {
        fix: 'Run `dvm get runs` to list runs.',
      });
    const platform = await ctx.platform();
    await reapInterrupted(platform.runs);
    const root = platform.runs.get(id);
    if (!root)
      throw new DvmError('DVM_RUN_NOT_FOUND', `no run "${id}"`, { fix: 'Run `dvm get runs` to list runs.' });
    const named = (r: RunRecord) =>
      !ctx.flags.task || r.node === ctx.flags.task || r.node.split('/').pop() === ctx.flags.task;
    const pick = (records: RunRecord[]) => records.filter((r) => r.level === 'task' && named(r));
    const all = platform.runs.tree(root.rootId).filter((r) => r.level === 'task');
    const tasks = all.filter(named);
    if (ctx.flags.task && tasks.length === 0) {
      throw new DvmError('DVM_NOT_FOUND', `run ${id} has no task "${ctx.flags.task}"`, {
        fix: `Tasks: ${all.map((t) => t.node).join(', ') || 'none'}.`,
      });
    }
    const printed = new Map<string, number>();
    const header = new Set<string>();
    const drain = (records: RunRecord[]) => {
      for (const task of records) {
        const path = task.logPath;
        const text = path && existsSync(path) ? readFileSync(path, 'utf8') : '';
        const from = printed.get(task.id) ?? 0;
        if (!header.has(task.id) && (text.length > 0 || FINAL_STATUSES.has(task.status))) {
          if (tasks.length > 1 || !ctx.flags.task)
            ctx.io.stdout.write(`==> ${task.node} (${task.status}) <==\n`);
          header.add(task.id);
        }
        if (text.length > from) {
          ctx.io.stdout.write(text.slice(from));
          printed.set(task.id, text.length);
        }
      }
    };
    drain(tasks);
    while (ctx.flags.follow) {
      const current = platform.runs.get(root.id);
      if (!current || FINAL_STATUSES.has(current.status)) {
        drain(pick(platform.runs.tree(root.rootId)));
        break;
      }
      await sleep(200);
      await reapInterrupted(platform.runs);
      drain(pick(platform.runs.tree(root.rootId)));
    }
    return 0;
  },
};
