import { objectKey, placementLabel } from '../../model/api.ts';
import { innerPlacement } from '../../service/delete.ts';
import { findObject, listObjects } from '../../service/query.ts';
import type { Command } from '../command.ts';
import { takeKinds } from '../kind-args.ts';
import { formatAge } from '../output/table.ts';

function indent(text: string, by: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `${by}${line}`)
    .join('\n');
}

/** `dvm describe KIND [NAME]`: an object's effective spec, where inherited fields came from, and who refers to it. */
export const command: Command = {
  summary: 'Show objects in detail: effective spec, inherited fields, references',
  usage: `Usage: dvm describe KIND [NAME…] [-A]

Shows each object's location, system metadata, its effective spec (with Template and Domain defaults
merged in), where each inherited field came from, what it contains, and which objects refer to it.`,
  flags: ['all', 'selector'],
  async run(ctx) {
    const platform = await ctx.platform();
    const scope = await ctx.scope();
    const { infos, rest } = takeKinds(ctx.positionals, platform.kinds, 'describe');
    const { stringify } = await import('yaml');
    const objects = [];
    for (const info of infos) {
      if (rest.length === 0)
        objects.push(
          ...(await listObjects(platform.store, [info], {
            scope,
            all: ctx.flags.all,
            selector: ctx.flags.selector,
          })),
        );
      else for (const name of rest) objects.push(await findObject(platform.store, info, name, scope));
    }
    const blocks: string[] = [];
    for (const o of objects) {
      const meta = o.effective.metadata;
      const lines = [
        `Name:              ${o.name}`,
        `Kind:              ${o.kind}`,
        `API Version:       ${o.applied.apiVersion}`,
        ...['ecosystem', 'domain', 'app', 'workspace']
          .filter((f) => o.placement[f as keyof typeof o.placement])
          .map(
            (f) =>
              `${`${f[0].toUpperCase()}${f.slice(1)}:`.padEnd(19)}${o.placement[f as keyof typeof o.placement]}`,
          ),
        `Description:       ${meta.description ?? '<none>'}`,
        `Labels:            ${
          Object.entries(meta.labels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') || '<none>'
        }`,
        `UID:               ${o.uid}`,
        `Created:           ${o.createdAt} (${formatAge(o.createdAt)} ago)`,
        `Generation:        ${o.generation}`,
        `Resource Version:  ${o.resourceVersion}`,
        'Spec (effective):',
        o.effective.spec ? indent(stringify(o.effective.spec, { lineWidth: 0 }), '  ') : '  <none>',
      ];
      const inherited = Object.entries(o.provenance);
      lines.push(
        'Inherited:',
        ...(inherited.length
          ? inherited.map(([path, from]) => `  ${path.padEnd(32)} from ${from}`)
          : ['  <none>']),
      );
      const inner = innerPlacement(o);
      if (inner) {
        const children = await platform.store.list({ placement: inner });
        lines.push(
          'Contains:',
          ...(children.length
            ? children.map(
                (c) =>
                  `  ${c.kind}/${c.name}${placementLabel(c.placement) === placementLabel(inner) ? '' : ` (in ${placementLabel(c.placement)})`}`,
              )
            : ['  <none>']),
        );
      }
      const referrers = await platform.store.referrers([objectKey(o.kind, o.placement, o.name)]);
      lines.push(
        'Referenced by:',
        ...(referrers.length ? referrers.map((r) => `  ${r.kind}/${r.name} (${r.path})`) : ['  <none>']),
      );
      blocks.push(lines.join('\n'));
    }
    ctx.io.stdout.write(blocks.length ? `${blocks.join('\n\n\n')}\n` : '');
    if (blocks.length === 0) ctx.io.stderr.write('No resources found.\n');
    return 0;
  },
};
