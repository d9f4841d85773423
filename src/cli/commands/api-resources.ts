import type { Command } from '../command.ts';
import { renderTable } from '../output/table.ts';

/** `dvm api-resources`: every kind with its names, API version and scope. */
export const command: Command = {
  summary: 'List every kind (built-in and user-defined) with short names and scope',
  usage: `Usage: dvm api-resources [-o wide|name]

SCOPE is where objects of the kind live: Global, or inside an Ecosystem, Domain, App or Workspace.`,
  flags: ['output'],
  maxArgs: 0,
  async run(ctx) {
    const platform = await ctx.platform();
    const kinds = platform.kinds.all();
    if (ctx.flags.output === 'name') {
      for (const k of kinds) ctx.io.stdout.write(`${k.plural}\n`);
      return 0;
    }
    const wide = ctx.flags.output === 'wide';
    const headers = [
      'NAME',
      'SHORTNAMES',
      'APIVERSION',
      'SCOPE',
      'KIND',
      ...(wide ? ['CATEGORY', 'DESCRIPTION'] : []),
    ];
    const rows = kinds.map((k) => [
      k.plural,
      k.shortNames.join(','),
      k.apiVersion,
      k.scope,
      k.kind,
      ...(wide ? [k.category, k.description] : []),
    ]);
    ctx.io.stdout.write(renderTable(headers, rows));
    return 0;
  },
};
