import { DvmError } from '../../errors/dvm-error.ts';
import { findObject } from '../../service/query.ts';
import type { Command } from '../command.ts';
import { renderTable } from '../output/table.ts';

const USAGE = `Usage:
  dvm seed datalake NAME [-e ECOSYSTEM] [-o json]
  dvm seed datastore NAME [-e ECOSYSTEM] [-d DOMAIN] [-o json]

Seeds test data into the DataStores' target dependency (PostgreSQL in this build): creates the database and the
table from spec.schema when missing (types, primary key, unique, enum as a CHECK constraint), then upserts the
records (referenced DataRecords and inline ones) with bound parameters, ON CONFLICT (primary key) DO UPDATE.
A DataLake seeds its stores in seedOrder, running beforeSeed data.truncate and afterSeed data.verify.
The dependency must be running: its definition's ports and env (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB)
say where; an instance env DVM_PORT / DVM_HOST points at another one.`;

/** `dvm seed datalake|datastore NAME`: seed test data into the target dependencies. */
export const command: Command = {
  summary: 'Seed a DataLake or DataStore into its dependency (PostgreSQL)',
  usage: USAGE,
  flags: ['output'],
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
    const { seedLake, seedStore } = await import('../../service/data/seed.ts');
    const seeded =
      kind === 'DataLake' ? await seedLake(platform, object) : [await seedStore(platform, object)];
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
