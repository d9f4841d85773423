import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { Placement } from '../../model/api.ts';
import type { KindInfo } from '../../model/catalog.ts';
import type { Platform } from '../../service/platform.ts';
import { findObject, scopeFor } from '../../service/query.ts';
import { reapInterrupted } from '../../service/run/run-service.ts';
import type { RunFilter } from '../../store/runs.ts';
import type { Command } from '../command.ts';
import { renderRunTree } from '../output/run-view.ts';

/** `dvm status run ID` / `dvm status pipeline NAME`: a run (or an object's latest run) as a tree. */
export const command: Command = {
  summary: 'Show a run, or the latest run of a task/workflow/pipeline/orchestration/job',
  usage: `Usage: dvm status run ID [-o json]
       dvm status task|workflow|pipeline|orchestration|job NAME [-e ECO] [-d DOMAIN] [-o json]
       dvm status app|dependency NAME [-o json]   live status: runtime, pid or container, health, restarts`,
  flags: ['output'],
  maxArgs: 2,
  async run(ctx) {
    const [what, id] = ctx.positionals;
    if (!what || !id)
      throw new DvmError('DVM_USAGE', 'usage: dvm status run ID | dvm status KIND NAME', {
        fix: 'Run `dvm get runs` to list runs.',
      });
    if (what === 'app' || what === 'dependency') {
      const { printLiveStatus } = await import('./live-status.ts');
      return printLiveStatus(ctx, what, id);
    }
    const platform = await ctx.platform();
    await reapInterrupted(platform.runs);
    let rootId = id;
    if (what !== 'run') {
      const info = platform.kinds.require(what);
      // Its latest run, also as part of another (a pipeline a job or an orchestration ran).
      const [latest] = platform.runs.list({
        ...(await runsOf(platform, info, id, await ctx.scope())),
        roots: false,
        limit: 1,
      });
      if (!latest)
        throw new DvmError('DVM_RUN_NOT_FOUND', `${info.singular} ${id} has not run yet`, {
          fix: `Run it: dvm run ${info.singular} ${id}.`,
        });
      rootId = latest.id;
    }
    const root = platform.runs.get(rootId);
    if (!root)
      throw new DvmError('DVM_RUN_NOT_FOUND', `no run "${rootId}"`, {
        fix: 'Run `dvm get runs` to list runs.',
      });
    const tree = platform.runs
      .tree(root.rootId)
      .filter((r) => r.id === root.id || r.id.startsWith(`${root.id}.`) || root.parentId === undefined);
    if (ctx.flags.output === 'json')
      ctx.io.stdout.write(
        `${JSON.stringify({ apiVersion: 'devopsmaestro.io/v1', kind: 'RunList', items: tree }, null, 2)}\n`,
      );
    else {
      // A part of a run: how that run was triggered, and which it is.
      const top = root.parentId ? (platform.runs.get(root.rootId) ?? root) : root;
      const part = top === root ? '' : ` (in ${top.kind.toLowerCase()}/${top.name} run ${top.id})`;
      ctx.io.stdout.write(
        `run ${root.id}${part}  trigger: ${top.trigger ?? 'manual'}${top.commit ? `  commit: ${top.commit}` : ''}  started: ${root.startedAt ?? '-'}\n${renderRunTree(tree)}`,
      );
    }
    return 0;
  },
};

// The runs of the object the name picks in the scope, as `dvm run` picks it (DVM_AMBIGUOUS when two scopes have
// one); for an object since deleted, the runs of that name in the scope.
async function runsOf(
  platform: Platform,
  info: KindInfo,
  name: string,
  scope: Placement,
): Promise<RunFilter> {
  try {
    const { placement } = await findObject(platform.store, info, name, scope);
    return { kind: info.kind, name, ecosystem: placement.ecosystem ?? '', domain: placement.domain ?? '' };
  } catch (error) {
    if (!isDvmError(error) || error.code !== 'DVM_NOT_FOUND') throw error;
    const { ecosystem, domain } = scopeFor(info, scope);
    return { kind: info.kind, name, ecosystem, domain };
  }
}
