import { stopInstance } from '../../service/deps/lifecycle.ts';
import type { Command } from '../command.ts';
import { selectDependencies } from './lifecycle-args.ts';

/** `dvm stop dependency NAME | dependencies`: stop instances, keeping their volumes and logs. */
export const command: Command = {
  summary: 'Stop dependency instances (volumes and logs stay)',
  usage: `Usage:
  dvm stop dependency NAME [-e ECO] [-d DOMAIN] [-a APP]
  dvm stop dependencies [-e ECO | -A]

SIGTERM, then SIGKILL after 10s (process runtime: to the whole process group); a container is stopped the same
way. The volumes keep their data for the next start.`,
  flags: [],
  maxArgs: (args) => (args[0] === 'dependencies' || args[0] === 'deps' ? 1 : 2),
  async run(ctx) {
    const { deps, instances } = await selectDependencies(ctx, 'stop');
    await Promise.all(instances.map((instance) => stopInstance(deps, instance)));
    return 0;
  },
};
