import { resolve } from 'node:path';
import { DvmError } from '../../errors/dvm-error.ts';
import { placementFieldsOf, type ResourceObject } from '../../model/api.ts';
import type { SourceDocument } from '../../model/yaml-source.ts';
import { applyDocuments } from '../../service/apply/apply.ts';
import type { Command } from '../command.ts';
import { isLegacyProject, LEGACY_PLACEMENT, PROJECT_DEPRECATION, takeKinds } from '../kind-args.ts';

function synthetic(data: ResourceObject): SourceDocument {
  return { file: '<dvm create>', index: 0, data, locate: () => ({ line: 0, column: 0 }) };
}

/** `dvm create KIND NAME`: create one object from flags (fails if it exists). */
export const command: Command = {
  summary: 'Create an object from flags: ecosystem, domain, app --path, workspace, …',
  usage: `Usage: dvm create KIND NAME [--path PATH] [--description TEXT] [-e ECO] [-d DOMAIN] [-a APP] [--dry-run]

  dvm create ecosystem customer-platform
  dvm create domain auth-domain -e customer-platform
  dvm create app auth-api -d auth-domain --path ~/Developer/auth-api
  dvm create workspace dev -a auth-api
  dvm create project my-api --path .     (deprecated: an App in the default ecosystem and domain)

The parent comes from the flags, else the context (dvm use), else the only one that exists.
Kinds whose spec has required fields are created with \`dvm apply -f\`.`,
  flags: ['path', 'description', 'dry-run', 'output'],
  maxArgs: 2,
  async run(ctx) {
    const platform = await ctx.platform();
    let scope = await ctx.scope();
    let positionals = ctx.positionals;
    const docs: SourceDocument[] = [];
    if (isLegacyProject(positionals[0])) {
      ctx.io.stderr.write(PROJECT_DEPRECATION);
      positionals = ['app', ...positionals.slice(1)];
      scope = { ...LEGACY_PLACEMENT };
      for (const [kind, meta] of [
        ['Ecosystem', {}],
        ['Domain', { ecosystem: LEGACY_PLACEMENT.ecosystem }],
      ] as const) {
        const name = kind === 'Ecosystem' ? LEGACY_PLACEMENT.ecosystem : LEGACY_PLACEMENT.domain;
        if (!(await platform.store.get(kind, meta, name))) {
          docs.push(
            synthetic({
              apiVersion: 'devopsmaestro.io/v1',
              kind,
              metadata: { name, ...meta, description: 'Created for legacy projects.' },
              spec: {},
            }),
          );
        }
      }
    }
    const { infos, rest } = takeKinds(positionals, platform.kinds, 'create');
    const [name, ...extra] = rest;
    if (!name || extra.length > 0 || infos.length !== 1) {
      throw new DvmError('DVM_USAGE', '`dvm create` takes one KIND and one NAME', {
        fix: 'Run `dvm create KIND NAME`, e.g. `dvm create app auth-api --path .`.',
      });
    }
    const info = infos[0];
    const metadata: ResourceObject['metadata'] = { name };
    for (const field of placementFieldsOf(info.scope)) if (scope[field]) metadata[field] = scope[field];
    if (ctx.flags.description) metadata.description = ctx.flags.description;
    const spec: Record<string, unknown> = {};
    if (ctx.flags.path !== undefined) {
      if (info.kind !== 'App')
        throw new DvmError('DVM_USAGE', '--path applies to apps only', {
          fix: 'Drop --path, or create an app.',
        });
      if (ctx.flags.path === '')
        throw new DvmError('DVM_USAGE', '--path got an empty path', {
          fix: 'Give the directory of the app (--path . for the current one).',
        });
      spec.path = resolve(ctx.io.cwd, ctx.flags.path);
    }
    docs.push(synthetic({ apiVersion: info.apiVersion, kind: info.kind, metadata, spec }));
    const dryRun = Boolean(ctx.flags['dry-run']);
    const result = await applyDocuments(platform, docs, { defaults: scope, mode: 'create', dryRun });
    for (const outcome of result.outcomes) {
      const singular = platform.kinds.get(outcome.kind)?.singular ?? outcome.kind.toLowerCase();
      ctx.io.stdout.write(
        ctx.flags.output === 'name'
          ? `${singular}/${outcome.name}\n`
          : `${singular}/${outcome.name} created${dryRun ? ' (dry run)' : ''}\n`,
      );
    }
    return 0;
  },
};
