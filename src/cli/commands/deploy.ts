import { DvmError } from '../../errors/dvm-error.ts';
import { parseRuntimeName } from '../../service/deps/deps-context.ts';
import type { DeployResult } from '../../service/live/deploy.ts';
import { findLiveApp } from '../../service/live/live-apps.ts';
import type { Command } from '../command.ts';
import { progressPrinter, runLocalAction } from '../local-action.ts';
import { withLocalAgent } from '../local-agent.ts';

/** `dvm deploy app NAME`: run an App in live mode after its dependencies are healthy. */
export const command: Command = {
  summary: 'Run an App in live mode (dependencies first, healthy before it counts as deployed)',
  usage: `Usage: dvm deploy app NAME [-e ECO] [-d DOMAIN] [--runtime process|docker] [--env ENV] [--yes] [-o json]

Starts (or adopts) the dependency instances the App uses and waits until each is healthy, then starts the App
from spec.live.command in spec.path, with their connection settings as environment variables (NAME_HOST,
NAME_PORT, NAME_URL, DATABASE_URL, REDIS_URL) and PORT. The App counts as deployed once its healthCheck passes
(HTTP path, command, else its port accepting TCP). It restarts on crash with exponential backoff; resource
limits apply on docker. Deploying again with the same spec adopts the running instance.

It is the service.deploy action, run in-process through the agent as \`dvm action run service.deploy\` is, in
--env (default: the agent's one bound environment, else dev): the policies decide it (a forbid stops it with
DVM_FORBIDDEN), a confirmation gate asks on a terminal (--yes for scripts), and it is audited (dvm audit).`,
  flags: ['runtime', 'output', 'yes', 'env'],
  maxArgs: 2,
  async run(ctx) {
    const [what, name] = ctx.positionals;
    if (!(what === 'app' && name)) {
      throw new DvmError('DVM_USAGE', 'usage: dvm deploy app NAME', {
        fix: 'Run `dvm get apps -A` to list apps.',
      });
    }
    const platform = await ctx.platform();
    const scope = await ctx.scope();
    // The App is looked up first (as before: a missing one is DVM_NOT_FOUND); the deploy itself is the
    // service.deploy action, run through the agent's one path (policy, confirmation, audit) as `dvm action run`.
    await findLiveApp(platform, name, scope);
    const runtime = parseRuntimeName(ctx.flags.runtime);
    const outcome = await withLocalAgent(ctx, (agent) =>
      runLocalAction(
        ctx,
        agent,
        'service.deploy',
        {
          target: name,
          ...(scope.ecosystem ? { ecosystem: scope.ecosystem } : {}),
          ...(scope.domain ? { domain: scope.domain } : {}),
          ...(runtime ? { runtime } : {}),
        },
        { onProgress: progressPrinter(ctx) },
      ),
    );
    if ('exit' in outcome) return outcome.exit;
    const result = outcome.result as unknown as DeployResult;
    if (ctx.flags.output === 'json') ctx.io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      ctx.io.stdout.write(
        `app/${result.app} deployed on ${result.runtime} (pid ${result.state.pid ?? result.state.containerId?.slice(0, 12) ?? '-'}), healthy after ${(result.startToHealthyMs / 1000).toFixed(1)}s\n`,
      );
    return 0;
  },
};
