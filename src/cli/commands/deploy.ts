import { DvmError } from '../../errors/dvm-error.ts';
import { depsContext, parseRuntimeName } from '../../service/deps/deps-context.ts';
import { deployApp } from '../../service/live/deploy.ts';
import { findLiveApp } from '../../service/live/live-apps.ts';
import type { Command } from '../command.ts';

/** `dvm deploy app NAME`: run an App in live mode after its dependencies are healthy. */
export const command: Command = {
  summary: 'Run an App in live mode (dependencies first, healthy before it counts as deployed)',
  usage: `Usage: dvm deploy app NAME [-e ECO] [-d DOMAIN] [--runtime process|docker] [-o json]

Starts (or adopts) the dependency instances the App uses and waits until each is healthy, then starts the App
from spec.live.command in spec.path, with their connection settings as environment variables (NAME_HOST,
NAME_PORT, NAME_URL, DATABASE_URL, REDIS_URL) and PORT. The App counts as deployed once its healthCheck passes
(HTTP path, command, else its port accepting TCP). It restarts on crash with exponential backoff; resource
limits apply on docker. Deploying again with the same spec adopts the running instance.`,
  flags: ['runtime', 'output'],
  maxArgs: 2,
  async run(ctx) {
    const [what, name] = ctx.positionals;
    if (!(what === 'app' && name)) {
      throw new DvmError('DVM_USAGE', 'usage: dvm deploy app NAME', {
        fix: 'Run `dvm get apps -A` to list apps.',
      });
    }
    const platform = await ctx.platform();
    const deps = await depsContext(platform, { log: (line) => ctx.io.stderr.write(`${line}\n`) });
    const live = await findLiveApp(platform, name, await ctx.scope());
    const runtime = parseRuntimeName(ctx.flags.runtime);
    const result = await deployApp(deps, live, runtime ? { runtime } : {});
    if (ctx.flags.output === 'json') ctx.io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      ctx.io.stdout.write(
        `app/${result.app} deployed on ${result.runtime} (pid ${result.state.pid ?? result.state.containerId?.slice(0, 12) ?? '-'}), healthy after ${(result.startToHealthyMs / 1000).toFixed(1)}s\n`,
      );
    return 0;
  },
};
