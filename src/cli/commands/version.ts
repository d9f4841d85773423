import { readFileSync } from 'node:fs';
import { AGENT_MIGRATIONS } from '../../agent/store/migrations.ts';
import { LATEST_SCHEMA_VERSION } from '../../store/sqlite/migrations.ts';
import type { Command } from '../command.ts';

/** The version of dvm from its package.json. */
export function dvmVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `dvm version`: the dvm version, the schema versions of its two databases (dvm.db, agent.db) and Node.js's. */
export const command: Command = {
  summary: 'Print the dvm version',
  usage: 'Usage: dvm version [-o json]',
  flags: ['output'],
  maxArgs: 0,
  async run(ctx) {
    const info = {
      dvm: dvmVersion(),
      storeSchema: LATEST_SCHEMA_VERSION,
      agentSchema: AGENT_MIGRATIONS[AGENT_MIGRATIONS.length - 1].version,
      node: process.version,
    };
    ctx.io.stdout.write(
      ctx.flags.output === 'json'
        ? `${JSON.stringify(info, null, 2)}\n`
        : `dvm ${info.dvm} (schemas: dvm.db ${info.storeSchema}, agent.db ${info.agentSchema}; node ${info.node})\n`,
    );
    return 0;
  },
};
