import { DvmError } from '../../errors/dvm-error.ts';
import { placementLabel } from '../../model/api.ts';
import { deleteObjects } from '../../service/delete.ts';
import { findObject } from '../../service/query.ts';
import type { StoredObject } from '../../store/store.ts';
import type { Command } from '../command.ts';
import { readDocuments } from '../input.ts';
import { takeKinds } from '../kind-args.ts';

/** `dvm delete KIND NAME…` or `dvm delete -f FILE`: delete objects, refusing to break references. */
export const command: Command = {
  summary: 'Delete objects by name or by file (refuses to break references)',
  usage: `Usage: dvm delete KIND NAME… | -f FILE|DIR|- [-R] [--cascade] [--force] [--dry-run]

Deleting an object that others reference is refused with the list of referrers (--force overrides).
Deleting an ecosystem, domain, app or workspace that contains objects needs --cascade.
A ResourceDefinition whose kind still has objects cannot be deleted.`,
  flags: ['filename', 'recursive', 'cascade', 'force', 'dry-run', 'output'],
  async run(ctx) {
    const platform = await ctx.platform();
    const scope = await ctx.scope();
    const targets: StoredObject[] = [];
    if (ctx.flags.filename && ctx.positionals.length > 0) {
      // kubectl refuses this too: which objects were meant would be a guess.
      throw new DvmError(
        'DVM_USAGE',
        `delete takes either -f or KIND NAME, not both (got -f and ${ctx.positionals.join(' ')})`,
        {
          fix: 'Run dvm delete -f FILE, or dvm delete KIND NAME.',
        },
      );
    }
    if (ctx.flags.filename) {
      const { placeDocuments } = await import('../../service/apply/locate-documents.ts');
      targets.push(
        ...(await placeDocuments(
          platform,
          await readDocuments(ctx.io, ctx.flags.filename, ctx.flags.recursive, 'delete'),
          scope,
        )),
      );
    } else {
      const { infos, rest } = takeKinds(ctx.positionals, platform.kinds, 'delete');
      if (rest.length === 0)
        throw new DvmError('DVM_USAGE', '`dvm delete KIND` needs at least one NAME', {
          fix: 'Run `dvm delete KIND NAME`, or `dvm delete -f FILE`.',
        });
      for (const info of infos)
        for (const name of rest) targets.push(await findObject(platform.store, info, name, scope));
    }
    const dryRun = Boolean(ctx.flags['dry-run']);
    const deleted = await deleteObjects(platform.store, targets, {
      force: ctx.flags.force,
      cascade: ctx.flags.cascade,
      dryRun,
    });
    for (const o of deleted) {
      const info = platform.kinds.get(o.kind);
      const where = placementLabel(o.placement);
      ctx.io.stdout.write(
        `${info?.singular ?? o.kind.toLowerCase()}/${o.name}${where && ctx.flags.output !== 'name' ? ` (${where})` : ''}${ctx.flags.output === 'name' ? '' : ` deleted${dryRun ? ' (dry run)' : ''}`}\n`,
      );
    }
    return 0;
  },
};
