import { DvmError } from '../../errors/dvm-error.ts';
import type { StoredObject } from '../../store/store.ts';
import type { Command } from '../command.ts';

/** `dvm tree`: the hierarchy ecosystem → domain → app → workspace, with counts of what each domain holds. */
export const command: Command = {
  summary: 'Show the hierarchy: ecosystems → domains → apps → workspaces',
  usage: `Usage: dvm tree [-e ECOSYSTEM]

Prints every ecosystem (or the one given), its domains, their apps and the apps' workspaces, and after
each domain a count of its other objects (tasks, workflows, …).`,
  flags: [],
  maxArgs: 0,
  async run(ctx) {
    const platform = await ctx.platform();
    const store = platform.store;
    const only = ctx.flags.ecosystem;
    const byParent = new Map<string, StoredObject[]>();
    const parentKey = (o: StoredObject) =>
      [o.placement.ecosystem, o.placement.domain, o.placement.app].filter(Boolean).join('/');
    const hierarchy = await store.list({
      kinds: ['Ecosystem', 'Domain', 'App', 'Workspace'],
      placement: only ? { ecosystem: only } : {},
    });
    const ecosystems = only
      ? await store.list({ kinds: ['Ecosystem'], name: only })
      : hierarchy.filter((o) => o.kind === 'Ecosystem');
    for (const o of hierarchy) {
      if (o.kind === 'Ecosystem') continue;
      const list = byParent.get(parentKey(o)) ?? [];
      list.push(o);
      byParent.set(parentKey(o), list);
    }
    const others = await store.list({ placement: only ? { ecosystem: only } : {} });
    const counts = new Map<string, Map<string, number>>();
    for (const o of others) {
      if (['Ecosystem', 'Domain', 'App', 'Workspace'].includes(o.kind) || !o.placement.ecosystem) continue;
      const key = parentKey(o);
      const perKind = counts.get(key) ?? new Map<string, number>();
      perKind.set(o.kind, (perKind.get(o.kind) ?? 0) + 1);
      counts.set(key, perKind);
    }
    const lines: string[] = [];
    const summary = (key: string) => {
      const perKind = counts.get(key);
      if (!perKind) return '';
      const platformKinds = platform.kinds;
      const order = platformKinds.all().map((k) => k.kind);
      const sorted = [...perKind].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
      return `  [${sorted.map(([kind, n]) => `${n} ${n === 1 ? (platformKinds.get(kind)?.singular ?? kind) : (platformKinds.get(kind)?.plural ?? kind)}`).join(', ')}]`;
    };
    const walk = (key: string, prefix: string) => {
      const children = (byParent.get(key) ?? []).sort((a, b) => a.name.localeCompare(b.name));
      children.forEach((child, i) => {
        const last = i === children.length - 1;
        const childKey = key ? `${key}/${child.name}` : child.name;
        lines.push(`${prefix}${last ? '└── ' : '├── '}${child.name} (${child.kind})${summary(childKey)}`);
        walk(childKey, `${prefix}${last ? '    ' : '│   '}`);
      });
    };
    for (const eco of ecosystems) {
      lines.push(`${eco.name} (Ecosystem)${summary(eco.name)}`);
      walk(eco.name, '');
    }
    if (only && ecosystems.length === 0) {
      throw new DvmError('DVM_NOT_FOUND', `ecosystem "${only}" not found`, {
        fix: 'Run `dvm get ecosystems` for the names.',
      });
    }
    if (lines.length === 0)
      ctx.io.stderr.write('No ecosystems yet: `dvm create ecosystem NAME` or `dvm apply -f FILE`.\n');
    else ctx.io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
