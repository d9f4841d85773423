import type { KindInfo } from '../../model/catalog.ts';
import { findObject, listObjects, scopeFor } from '../../service/query.ts';
import type { StoredObject } from '../../store/store.ts';
import type { Command } from '../command.ts';
import { isLegacyProject, LEGACY_PLACEMENT, PROJECT_DEPRECATION, takeKinds } from '../kind-args.ts';
import { outputFormat, printObjects } from '../output/objects.ts';

/** `dvm get KIND [NAME…]`: list objects or show some by name. */
export const command: Command = {
  summary: 'List objects of a kind, or show objects by name',
  usage: `Usage: dvm get KIND[,KIND…] [NAME…] [-o table|wide|yaml|json|name] [-A] [-l SELECTOR] [--effective]

  dvm get apps                 apps in the current context (dvm use …)
  dvm get apps -A              apps in every ecosystem and domain
  dvm get tasks -d auth-domain tasks of a domain
  dvm get app auth-api -o yaml one app as YAML
  dvm get ff -l team=web       objects of a user-defined kind, by label
  dvm get context              the current selection
  dvm get nvim plugins         two-word kinds as the seed writes them

--effective prints objects with their template and domain defaults merged in.`,
  flags: ['output', 'all', 'selector', 'effective'],
  async run(ctx) {
    const format = outputFormat(ctx.flags.output);
    const platform = await ctx.platform();
    let scope = await ctx.scope();
    let positionals = ctx.positionals;
    if (isLegacyProject(positionals[0])) {
      ctx.io.stderr.write(PROJECT_DEPRECATION);
      positionals = ['apps', ...positionals.slice(1)];
      scope = { ...LEGACY_PLACEMENT };
    }
    const { infos, rest } = takeKinds(positionals, platform.kinds, 'get');
    const all = Boolean(ctx.flags.all);
    const groups: [KindInfo, StoredObject[]][] = [];
    if (rest.length > 0) {
      for (const info of infos) {
        const found: StoredObject[] = [];
        for (const name of rest) found.push(await findObject(platform.store, info, name, scope));
        groups.push([info, found]);
      }
    } else {
      for (const info of infos)
        groups.push([
          info,
          await listObjects(platform.store, [info], { scope, all, selector: ctx.flags.selector }),
        ]);
    }
    const total = groups.reduce((n, [, objects]) => n + objects.length, 0);
    if (total === 0 && (format === 'table' || format === 'wide')) {
      const where = all ? '' : Object.values(scopeFor(infos[0], scope)).join('/');
      ctx.io.stderr.write(`No resources found${where ? ` in ${where}` : ''}.\n`);
      return 0;
    }
    // Parent columns appear with -A, or when the objects listed differ in that parent.
    const listed = groups.flatMap(([, objects]) => objects);
    const parentColumns = ['ecosystem', 'domain', 'app', 'workspace'].filter(
      (field) => all || new Set(listed.map((o) => o.placement[field as keyof typeof o.placement])).size > 1,
    );
    await printObjects(ctx.io, groups, {
      format,
      effective: ctx.flags.effective,
      parentColumns,
      single: rest.length === 1 && infos.length === 1,
    });
    return 0;
  },
};
