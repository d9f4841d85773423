import type { Placement } from '../../model/api.ts';
import { depsContext } from '../../service/deps/deps-context.ts';
import { listInstances } from '../../service/deps/instances.ts';
import { instanceStatus } from '../../service/deps/lifecycle.ts';
import type { Platform } from '../../service/platform.ts';
import type { CommandContext } from '../command.ts';
import { formatAge, renderTable } from '../output/table.ts';

/** `dvm get dependencies -e ECO`: the instances of a scope with their live status and health. */
export async function printInstances(
  ctx: CommandContext,
  platform: Platform,
  scope: Placement,
  wide: boolean,
): Promise<number> {
  const deps = await depsContext(platform);
  const instances = await listInstances(platform.store, platform.home, scope);
  if (instances.length === 0) {
    ctx.io.stderr.write(
      'No dependency instances in this scope (definitions: dvm get dependencies -o name).\n',
    );
    return 0;
  }
  const rows = await Promise.all(
    instances.map(async (instance) => {
      const { record, state, healthy } = await instanceStatus(deps, instance);
      const status = !state
        ? 'NotStarted'
        : state.status === 'running'
          ? healthy
            ? 'Healthy'
            : 'Unhealthy'
          : state.status[0]?.toUpperCase() + state.status.slice(1);
      const row = [
        instance.name,
        instance.scope,
        `${instance.definitionName}${instance.definitionSource === 'catalog' ? ' (built in)' : ''}`,
        record?.runtime ?? '-',
        status,
        instance.ports
          .map((p) =>
            p.hostPort === p.containerPort ? String(p.hostPort) : `${p.hostPort}->${p.containerPort}`,
          )
          .join(',') || '-',
        String(state?.restarts ?? 0),
        state?.status === 'running' && state.startedAt ? formatAge(state.startedAt) : '-',
      ];
      if (wide)
        row.push(
          state?.pid ? String(state.pid) : (state?.containerId?.slice(0, 12) ?? '-'),
          instance.volumes.map((v) => v.hostPath).join(',') || '-',
        );
      return row;
    }),
  );
  const headers = ['NAME', 'SCOPE', 'DEFINITION', 'RUNTIME', 'STATUS', 'PORTS', 'RESTARTS', 'AGE'];
  if (wide) headers.push('PID/CONTAINER', 'VOLUMES');
  ctx.io.stdout.write(renderTable(headers, rows));
  return 0;
}
