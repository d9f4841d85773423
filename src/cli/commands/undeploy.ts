import { DvmError } from '../../errors/dvm-error.ts';
import { depsContext } from '../../service/deps/deps-context.ts';
import { undeployApp } from '../../service/live/deploy.ts';
import { findLiveApp } from '../../service/live/live-apps.ts';
import type { Command } from '../command.ts';

/** `dvm undeploy app NAME`: stop an App's live instance (its dependencies keep running). */
export const command: Command = {
  summary: 'Stop an App running in live mode (its dependencies keep running)',
  usage: 'Usage: dvm undeploy app NAME [-e ECO] [-d DOMAIN]',
  flags: [],
  maxArgs: 2,
  async run(ctx) {
    const [what, name] = ctx.positionals;
    if (!(what === 'app' && name)) {
      throw new DvmError('DVM_USAGE', 'usage: dvm undeploy app NAME', {
        fix: 'Run `dvm get apps -A` to list apps.',
      });
    }
    const platform = await ctx.platform();
    const deps = await depsContext(platform);
    const live = await findLiveApp(platform, name, await ctx.scope());
    const done = await undeployApp(deps, live);
    ctx.io.stdout.write(done ? `app/${name} undeployed\n` : `app/${name} was not deployed\n`);
    return 0;
  },
};
