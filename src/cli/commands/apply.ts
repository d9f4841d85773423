import { applyDocuments } from '../../service/apply/apply.ts';
import type { Command } from '../command.ts';
import { readDocuments } from '../input.ts';

/** `dvm apply -f FILE|DIR|-`: create or update objects from YAML, atomically. */
export const command: Command = {
  summary: 'Create or update objects from YAML files (atomic: all or nothing)',
  usage: `Usage: dvm apply -f FILE|DIR|- [-f …] [-R] [--dry-run] [-o name]

  dvm apply -f platform.yaml      one file, any number of documents (---)
  dvm apply -f examples/ -R       every .yaml/.yml/.json file below a directory
  cat x.yaml | dvm apply -f -     from stdin
  dvm apply -f x.yaml --dry-run   validate everything and print what would change

The whole batch is validated (schemas, references, dependsOn cycles, seed order) against itself and the
store; on any problem every cause is printed with file:line:col and nothing is written.
Objects without metadata.ecosystem/domain/app go to the scope of -e/-d/-a or the context (dvm use),
or to the only one that exists.`,
  flags: ['filename', 'recursive', 'dry-run', 'output'],
  maxArgs: 0,
  async run(ctx) {
    const docs = await readDocuments(ctx.io, ctx.flags.filename, ctx.flags.recursive, 'apply');
    const platform = await ctx.platform();
    const dryRun = Boolean(ctx.flags['dry-run']);
    const result = await applyDocuments(platform, docs, { defaults: await ctx.scope(), dryRun });
    for (const warning of result.warnings) ctx.io.stderr.write(`warning: ${warning}\n`);
    for (const outcome of result.outcomes) {
      const info = platform.kinds.get(outcome.kind);
      const name = `${info?.singular ?? outcome.kind.toLowerCase()}/${outcome.name}`;
      ctx.io.stdout.write(
        ctx.flags.output === 'name'
          ? `${name}\n`
          : `${name} ${outcome.action}${outcome.via ? ` (via ${outcome.via})` : ''}${dryRun ? ' (dry run)' : ''}\n`,
      );
    }
    return 0;
  },
};
