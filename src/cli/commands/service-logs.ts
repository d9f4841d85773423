import { DvmError } from '../../errors/dvm-error.ts';
import { depsContext } from '../../service/deps/deps-context.ts';
import { findInstance } from '../../service/deps/instances.ts';
import { readRecord } from '../../service/deps/lifecycle.ts';
import type { CommandContext } from '../command.ts';

/** Prints (and with -f follows until Ctrl-C) the output of a dependency instance or a live app. */
export async function printServiceLogs(
  ctx: CommandContext,
  kind: 'dependency' | 'app',
  name: string,
): Promise<number> {
  const platform = await ctx.platform();
  const scope = await ctx.scope();
  const deps = await depsContext(platform);
  let id: string;
  if (kind === 'dependency') {
    id = (await findInstance(platform.store, platform.home, name, scope)).id;
  } else {
    const { findLiveApp } = await import('../../service/live/live-apps.ts');
    id = (await findLiveApp(platform, name, scope)).id;
  }
  const record = readRecord(platform.home, id);
  if (!record) {
    throw new DvmError('DVM_NOT_FOUND', `${kind} ${name} has never been started, so it has no logs`, {
      fix:
        kind === 'dependency' ? `Run \`dvm start dependency ${name}\`.` : `Run \`dvm deploy app ${name}\`.`,
    });
  }
  const tail = ctx.flags.tail === undefined ? undefined : Number(ctx.flags.tail);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) {
    throw new DvmError('DVM_USAGE', `--tail ${ctx.flags.tail} is not a whole number`, {
      fix: 'Use --tail 100.',
    });
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  try {
    for await (const line of deps.runtime(record.runtime).logs(id, {
      follow: !!ctx.flags.follow,
      ...(tail !== undefined ? { tail } : {}),
      signal: abort.signal,
    })) {
      ctx.io.stdout.write(`${line}\n`);
    }
  } finally {
    process.off('SIGINT', stop);
  }
  return 0;
}
