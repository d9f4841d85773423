import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
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
    // Read by bytes, decoded as a stream: a character whose bytes the task wrote apart (a poll between them)
    // prints whole once its last byte is there, and each poll reads only what is new.
    const printed = new Map<string, number>();
    const decoders = new Map<string, StringDecoder>();
    const header = new Set<string>();
    const drain = (records: RunRecord[], last = false) => {
      for (const task of records) {
        const path = task.logPath;
        const size = path && existsSync(path) ? statSync(path).size : 0;
        const from = Math.min(printed.get(task.id) ?? 0, size);
        if (!header.has(task.id) && (size > 0 || FINAL_STATUSES.has(task.status))) {
          if (tasks.length > 1 || !ctx.flags.task)
            ctx.io.stdout.write(`==> ${task.node} (${task.status}) <==\n`);
          header.add(task.id);
        }
        const decoder = decoders.get(task.id) ?? new StringDecoder('utf8');
        decoders.set(task.id, decoder);
        if (path && size > from) {
          const bytes = Buffer.alloc(size - from);
          const fd = openSync(path, 'r');
          try {
            const read = readSync(fd, bytes, 0, bytes.length, from);
            ctx.io.stdout.write(decoder.write(bytes.subarray(0, read)));
            printed.set(task.id, from + read);
          } finally {
            closeSync(fd);
          }
        }
        if (last) ctx.io.stdout.write(decoder.end());
      }
    };
    drain(tasks, !ctx.flags.follow);
    while (ctx.flags.follow) {
      const current = platform.runs.get(root.id);
      if (!current || FINAL_STATUSES.has(current.status)) {
        drain(pick(platform.runs.tree(root.rootId)), true);
        break;
      }
      await sleep(200);
      await reapInterrupted(platform.runs);
      drain(pick(platform.runs.tree(root.rootId)));
    }
    return 0;
  },
};
