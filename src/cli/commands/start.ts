import { parseRuntimeName } from '../../service/deps/deps-context.ts';
import { startInstance } from '../../service/deps/lifecycle.ts';
import type { Command } from '../command.ts';
import { renderTable } from '../output/table.ts';
import { selectDependencies } from './lifecycle-args.ts';

/** `dvm start dependency NAME | dependencies`: start instances and wait until each is healthy. */
export const command: Command = {
  summary: 'Start dependency instances and wait until they are healthy (adopts running ones)',
  usage: `Usage:
  dvm start dependency NAME [-e ECO] [-d DOMAIN] [-a APP] [--runtime process|docker] [-o json]
  dvm start dependencies [-e ECO | -A] [--runtime process|docker]

Starts the instance (or every instance in the scope, concurrently) on the runtime that already runs it, else
--runtime, DVM_RUNTIME, the Runtime named default, or the process runtime. The command returns only when each
health check passes (exit 1 with DVM_HEALTH_FAILED otherwise). An instance already running the same spec is
adopted, never started twice; one running an older spec is replaced. A host port already in use is
DVM_PORT_IN_USE, naming the process that holds it.`,
  flags: ['runtime', 'output'],
  maxArgs: (args) => (args[0] === 'dependencies' || args[0] === 'deps' ? 1 : 2),
  async run(ctx) {
    const { deps, instances } = await selectDependencies(ctx, 'start');
    const wanted = parseRuntimeName(ctx.flags.runtime);
    const results = await Promise.all(
      instances.map((instance) => startInstance(deps, instance, wanted ? { runtime: wanted } : {})),
    );
    if (ctx.flags.output === 'json') {
      ctx.io.stdout.write(
        `${JSON.stringify(
          results.map((r) => ({
            id: r.instance.id,
            name: r.instance.name,
            scope: r.instance.scope,
            runtime: r.runtime,
            status: r.state.status,
            adopted: r.adopted,
            ports: r.instance.ports,
            startToHealthyMs: r.startToHealthyMs,
          })),
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    ctx.io.stdout.write(
      renderTable(
        ['NAME', 'SCOPE', 'RUNTIME', 'STATUS', 'PORTS', 'READY IN'],
        results.map((r) => [
          r.instance.name,
          r.instance.scope,
          r.runtime,
          r.adopted ? 'healthy (adopted)' : 'healthy',
          r.instance.ports.map((p) => String(p.hostPort)).join(',') || '-',
          r.adopted ? '-' : `${(r.startToHealthyMs / 1000).toFixed(1)}s`,
        ]),
      ),
    );
    return 0;
  },
};
