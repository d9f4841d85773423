import { DvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import type { KindInfo } from '../../model/catalog.ts';
import type { Platform } from '../../service/platform.ts';
import { findObject, listObjects, scopeFor, summarizeObjects } from '../../service/query.ts';
import type { ObjectSummary, StoredObject } from '../../store/store.ts';
import type { Command, CommandContext } from '../command.ts';
import { isLegacyProject, LEGACY_PLACEMENT, PROJECT_DEPRECATION, takeKinds } from '../kind-args.ts';
import { columnPaths, outputFormat, printDocuments, printRows, summaryOf } from '../output/objects.ts';
import { formatAge, renderTable } from '../output/table.ts';

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
    if (positionals[0] === 'runs' || positionals[0] === 'run')
      return printRuns(ctx, platform, positionals.slice(1), ctx.flags.all ? {} : scope);
    const { infos, rest } = takeKinds(positionals, platform.kinds, 'get');
    const all = Boolean(ctx.flags.all);
    if (
      infos.length === 1 &&
      infos[0]?.kind === 'Dependency' &&
      rest.length === 0 &&
      (format === 'table' || format === 'wide') &&
      (all || scope.ecosystem)
    ) {
      const { printInstances } = await import('./dependency-instances.ts');
      return printInstances(ctx, platform, all ? {} : scope, format === 'wide');
    }
    const documents = format === 'yaml' || format === 'json';
    const listing = { scope, all, selector: ctx.flags.selector };
    const groups: [KindInfo, StoredObject[] | ObjectSummary[]][] = [];
    for (const info of infos) {
      if (rest.length > 0) {
        const found: StoredObject[] = [];
        for (const name of rest) found.push(await findObject(platform.store, info, name, scope));
        groups.push([info, documents ? found : found.map((o) => summaryOf(o, columnPaths(info, format)))]);
      } else if (documents) {
        groups.push([info, await listObjects(platform.store, [info], listing)]);
      } else {
        groups.push([info, await summarizeObjects(platform.store, info, columnPaths(info, format), listing)]);
      }
    }
    const listed = groups.flatMap(([, objects]) => objects as { placement: Placement }[]);
    if (listed.length === 0 && !documents && format !== 'name') {
      const where = all ? '' : Object.values(scopeFor(infos[0], scope)).join('/');
      ctx.io.stderr.write(`No resources found${where ? ` in ${where}` : ''}.\n`);
      return 0;
    }
    const single = rest.length === 1 && infos.length === 1;
    if (documents) {
      await printDocuments(
        ctx.io,
        groups.flatMap(([, objects]) => objects as StoredObject[]),
        { format, effective: ctx.flags.effective, parentColumns: [], single },
      );
      return 0;
    }
    // Parent columns appear with -A, or when the objects listed differ in that parent.
    const parentColumns = ['ecosystem', 'domain', 'app', 'workspace'].filter(
      (field) => all || new Set(listed.map((o) => o.placement[field as keyof Placement])).size > 1,
    );
    printRows(ctx.io, groups as [KindInfo, ObjectSummary[]][], { format, parentColumns, single });
    return 0;
  },
};

async function printRuns(
  ctx: CommandContext,
  platform: Platform,
  ids: string[],
  scope: Placement,
): Promise<number> {
  const { reapInterrupted } = await import('../../service/run/run-service.ts');
  const { formatDuration } = await import('../output/run-view.ts');
  await reapInterrupted(platform.runs);
  const runs = ids.length
    ? ids.map((id) => {
        const run = platform.runs.get(id);
        if (!run)
          throw new DvmError('DVM_RUN_NOT_FOUND', `no run "${id}"`, {
            fix: 'Run `dvm get runs` to list runs.',
          });
        return run;
      })
    : platform.runs.list({ ecosystem: scope.ecosystem, domain: scope.domain, limit: 50 });
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(
      `${JSON.stringify({ apiVersion: 'devopsmaestro.io/v1', kind: 'RunList', items: runs }, null, 2)}\n`,
    );
    return 0;
  }
  if (ctx.flags.output === 'name') {
    for (const run of runs) ctx.io.stdout.write(`run/${run.id}\n`);
    return 0;
  }
  if (runs.length === 0) {
    const where = ids.length ? '' : [scope.ecosystem, scope.domain].filter(Boolean).join('/');
    ctx.io.stderr.write(`No runs${where ? ` in ${where}` : ''} yet: \`dvm run pipeline NAME\`.\n`);
    return 0;
  }
  // As for objects: the ecosystem and domain columns appear with -A, or when the runs listed differ in them.
  const parents = (['ecosystem', 'domain'] as const).filter(
    (field) => ctx.flags.all || new Set(runs.map((r) => r[field] ?? '')).size > 1,
  );
  const rows = runs.map((r) => [
    r.id,
    `${r.kind.toLowerCase()}/${r.name}`,
    ...parents.map((field) => r[field] || '<none>'),
    r.status,
    r.trigger ?? 'manual',
    r.startedAt ? formatAge(r.startedAt) : '-',
    formatDuration(r.durationMs) || '-',
    r.reason ?? '',
  ]);
  const headers = [
    'ID',
    'RUNS',
    ...parents.map((p) => p.toUpperCase()),
    'STATUS',
    'TRIGGER',
    'AGE',
    'DURATION',
  ];
  ctx.io.stdout.write(renderTable([...headers, 'REASON'], rows));
  return 0;
}
