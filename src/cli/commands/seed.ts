import { DvmError } from '../../errors/dvm-error.ts';
import { findObject } from '../../service/query.ts';
import type { Command } from '../command.ts';
import { runLocalAction } from '../local-action.ts';
import { withLocalAgent } from '../local-agent.ts';
import { renderTable } from '../output/table.ts';

// Ctrl-C at a confirmation question: the seed stops there (DVM_CANCELLED is printed; exit 130).
class SeedInterrupted extends Error {}

const USAGE = `Usage:
  dvm seed datalake NAME [-e ECOSYSTEM] [--env ENV] [--yes] [-o json]
  dvm seed datastore NAME [-e ECOSYSTEM] [-d DOMAIN] [--env ENV] [--yes] [-o json]

Seeds test data into the DataStores' target dependency (PostgreSQL in this build): creates the database and the
table from spec.schema when missing (types, primary key, unique, enum as a CHECK constraint), then upserts the
records (referenced DataRecords and inline ones) with bound parameters, ON CONFLICT (primary key) DO UPDATE.
A DataLake seeds its stores in seedOrder, running beforeSeed data.truncate and afterSeed data.verify.
Each step is its action (data.truncate, data.insert, data.verify) run in-process through the agent, as
\`dvm action run\` runs it, in --env (default: the agent's one bound environment, else dev): every step is
decided before the first runs (a forbid stops the seed with DVM_FORBIDDEN, a confirmation gate without --yes
with DVM_CONFIRMATION_REQUIRED, nothing changed), and each is audited (dvm audit).
The dependency must be running: its definition's ports and env (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB)
say where; an instance env DVM_PORT / DVM_HOST points at another one.`;

/** `dvm seed datalake|datastore NAME`: seed test data into the target dependencies. */
export const command: Command = {
  summary: 'Seed a DataLake or DataStore into its dependency (PostgreSQL)',
  usage: USAGE,
  flags: ['output', 'yes', 'env'],
  maxArgs: 2,
  async run(ctx) {
    const [what, name] = ctx.positionals;
    if (!name || !['datalake', 'datastore', 'dl', 'ds'].includes(what ?? '')) {
      throw new DvmError('DVM_USAGE', 'usage: dvm seed datalake|datastore NAME', {
        fix: 'Run `dvm get datalakes -A`.',
      });
    }
    const platform = await ctx.platform();
    const kind = what === 'datalake' || what === 'dl' ? 'DataLake' : 'DataStore';
    const info = platform.kinds.get(kind);
    if (!info) throw new DvmError('DVM_INTERNAL', `kind ${kind} is not registered`);
    const object = await findObject(platform.store, info, name, await ctx.scope());
    const { lakePlan } = await import('../../service/data/seed.ts');
    const { seedThroughActions } = await import('../../service/data/seed-actions.ts');
    const plan =
      kind === 'DataLake'
        ? await lakePlan(platform, object)
        : { stores: [object], truncate: false, verify: false };
    // Each step is its action (data.truncate, data.insert, data.verify) through the agent's one path, as
    // `dvm action run` runs it in-process: policy decides it, audit records it.
    let interrupted: number | undefined;
    const seeded = await withLocalAgent(ctx, (agent) =>
      seedThroughActions(
        platform,
        plan.stores,
        { ...plan, confirmed: ctx.flags.yes === true },
        async (action, params, dryRun) => {
          const outcome = await runLocalAction(ctx, agent, action, params, { dryRun });
          if ('result' in outcome) return outcome.result;
          interrupted = outcome.exit;
          throw new SeedInterrupted();
        },
      ).catch((error) => {
        if (error instanceof SeedInterrupted) return undefined;
        throw error;
      }),
    );
    if (!seeded) return interrupted ?? 130;
    if (ctx.flags.output === 'json') {
      ctx.io.stdout.write(`${JSON.stringify({ seeded }, null, 2)}\n`);
      return 0;
    }
    ctx.io.stdout.write(
      renderTable(
        ['STORE', 'TARGET', 'TABLE', 'RECORDS', 'TRUNCATED', 'VERIFIED', 'DURATION'],
        seeded.map((s) => [
          s.store,
          s.target,
          s.table,
          String(s.records),
          s.truncated ? 'yes' : 'no',
          s.verified ? `${s.verified.rows} rows` : '-',
          `${s.durationMs}ms`,
        ]),
      ),
    );
    return 0;
  },
};
