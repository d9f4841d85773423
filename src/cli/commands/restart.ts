import { startInstance, stopInstance } from '../../service/deps/lifecycle.ts';
import type { Command } from '../command.ts';
import { selectDependencies } from './lifecycle-args.ts';

/** `dvm restart dependency NAME`: stop and start one instance, and nothing else. */
export const command: Command = {
  summary: 'Restart a dependency instance (its dependencies are left alone) and wait until it is healthy',
  usage: `Usage: dvm restart dependency NAME [-e ECO] [-d DOMAIN] [-a APP]

Stops the instance and starts it again on the same runtime, then waits for its health check. Other instances,
and the instances it uses, are not touched. Data in its volumes survives.`,
  flags: [],
  maxArgs: (args) => (args[0] === 'dependencies' || args[0] === 'deps' ? 1 : 2),
  async run(ctx) {
    const { deps, instances } = await selectDependencies(ctx, 'restart');
    for (const instance of instances) {
      await stopInstance(deps, instance);
      const result = await startInstance(deps, instance);
      ctx.io.stdout.write(
        `${instance.name} restarted on ${result.runtime}: healthy after ${(result.startToHealthyMs / 1000).toFixed(1)}s\n`,
      );
    }
    return 0;
  },
};
