import { DvmError } from '../../errors/dvm-error.ts';
import { depsContext } from '../../service/deps/deps-context.ts';
import { type DependencyInstance, findInstance, listInstances } from '../../service/deps/instances.ts';
import type { DepsContext } from '../../service/deps/lifecycle.ts';
import type { CommandContext } from '../command.ts';

/** The dependency instances a `start|stop|restart dependency NAME` (or `dependencies`: all in scope) means. */
export async function selectDependencies(
  ctx: CommandContext,
  verb: string,
): Promise<{ deps: DepsContext; instances: DependencyInstance[] }> {
  const [what, name] = ctx.positionals;
  const plural = what === 'dependencies' || what === 'deps';
  if (!(plural || ((what === 'dependency' || what === 'dep') && name))) {
    throw new DvmError(
      'DVM_USAGE',
      `usage: dvm ${verb} dependency NAME | dvm ${verb} dependencies [-e ECO]`,
      {
        fix: 'Run `dvm get dependencies -A` to list the instances.',
      },
    );
  }
  const platform = await ctx.platform();
  const scope = await ctx.scope();
  const deps = await depsContext(platform, {
    ...(ctx.flags.runtime ? { runtime: ctx.flags.runtime } : {}),
    log: (line) => ctx.io.stderr.write(`${line}\n`),
  });
  const instances =
    plural || !name
      ? await listInstances(platform.store, platform.home, ctx.flags.all ? {} : scope)
      : [await findInstance(platform.store, platform.home, name, scope)];
  if (plural && instances.length === 0) {
    throw new DvmError('DVM_NOT_FOUND', 'no dependency instances in this scope', {
      fix: 'Declare them on an Ecosystem, Domain or App (spec.dependencies: [{name, ref}]), or pass -e/-A.',
    });
  }
  return { deps, instances };
}
