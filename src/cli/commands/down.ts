import { DvmError } from '../../errors/dvm-error.ts';
import { depsContext } from '../../service/deps/deps-context.ts';
import { down } from '../../service/live/deploy.ts';
import type { Command } from '../command.ts';

/** `dvm down -e ECO`: stop the live apps and dependency instances of a scope, in reverse dependency order. */
export const command: Command = {
  summary: 'Stop every live app and dependency instance of a scope, in reverse dependency order',
  usage: `Usage: dvm down [-e ECO] [-d DOMAIN] [-A] [-o json]

Undeploys the live apps of the scope, then stops and removes its dependency instances from the innermost scope
(app) out to the ecosystem. Volumes keep their data. Afterwards it checks that no process or container of the
scope is left, and fails (DVM_RUNTIME_START) if one is.`,
  flags: ['output', 'all'],
  maxArgs: 0,
  async run(ctx) {
    const platform = await ctx.platform();
    const scope = ctx.flags.all ? {} : await ctx.scope();
    if (!ctx.flags.all && !scope.ecosystem) {
      throw new DvmError('DVM_SCOPE_REQUIRED', 'dvm down needs a scope', {
        fix: 'Pass -e ECOSYSTEM (or -A for everything).',
      });
    }
    const deps = await depsContext(platform, { log: (line) => ctx.io.stderr.write(`${line}\n`) });
    const result = await down(platform, deps, scope);
    if (ctx.flags.output === 'json') ctx.io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      ctx.io.stdout.write(
        `down: ${result.apps.length} app(s), ${result.dependencies.length} dependency instance(s) stopped\n`,
      );
    if (result.leftovers.length) {
      throw new DvmError('DVM_RUNTIME_START', `still running after down: ${result.leftovers.join(', ')}`, {
        fix: 'Run `dvm down` again; `dvm get dependencies -o wide` shows their pids and containers.',
      });
    }
    return 0;
  },
};
