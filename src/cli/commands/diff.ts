import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { applyDocuments } from '../../service/apply/apply.ts';
import type { Command } from '../command.ts';
import { readDocuments } from '../input.ts';

/** `dvm diff -f FILE`: what `apply` would change, as a unified diff; exit 1 when something differs. */
export const command: Command = {
  summary: 'Show what apply would change, as a unified diff',
  usage: `Usage: dvm diff -f FILE|DIR|- [-R]

Validates like \`dvm apply --dry-run\`, then prints a unified diff of each object as stored against the
object as it would be applied. Exits 0 when nothing would change, 1 when something would, and 2 on an error
(bad input, a missing file), as kubectl diff does.`,
  flags: ['filename', 'recursive'],
  maxArgs: 0,
  errorExit: 2,
  async run(ctx) {
    const docs = await readDocuments(ctx.io, ctx.flags.filename, ctx.flags.recursive, 'diff');
    const platform = await ctx.platform();
    const result = await applyDocuments(platform, docs, { defaults: await ctx.scope(), dryRun: true });
    let changed = 0;
    for (const outcome of result.outcomes) {
      if (outcome.action === 'unchanged') continue;
      changed++;
      const name = `${outcome.kind}/${outcome.name}`;
      const before = outcome.previous ? stringify(outcome.previous, { lineWidth: 0 }) : '';
      const after = stringify(outcome.applied, { lineWidth: 0 });
      ctx.io.stdout.write(
        createTwoFilesPatch(
          outcome.previous ? `live/${name}` : '/dev/null',
          `merged/${name}`,
          before,
          after,
          '',
          '',
          { context: 3 },
        ),
      );
    }
    return changed > 0 ? 1 : 0;
  },
};
