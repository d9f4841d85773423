import { readFileSync } from 'node:fs';
import { LATEST_SCHEMA_VERSION } from '../../store/sqlite/migrations.ts';
import type { Command } from '../command.ts';

/** The version of dvm from its package.json. */
export function dvmVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `dvm version`: the dvm version, store schema version and Node.js version. */
export const command: Command = {
  summary: 'Print the dvm version',
  usage: 'Usage: dvm version [-o json]',
  flags: ['output'],
  maxArgs: 0,
  async run(ctx) {
    const info = { dvm: dvmVersion(), storeSchema: LATEST_SCHEMA_VERSION, node: process.version };
    ctx.io.stdout.write(
      ctx.flags.output === 'json'
        ? `${JSON.stringify(info, null, 2)}\n`
        : `dvm ${info.dvm} (store schema ${info.storeSchema}, node ${info.node})\n`,
    );
    return 0;
  },
};
