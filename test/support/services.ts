import { join } from 'node:path';
import { findExecutable } from '../../src/runtime/process/process-runtime.ts';
import { expandBinPaths } from '../../src/service/deps/service-spec.ts';

export { freePort } from '../../src/runtime/port-holder.ts';

/** True when PostgreSQL's server binaries (Debian's layout) and redis-server are installed on this host. */
export async function hostServiceBinaries(): Promise<boolean> {
  return (
    !!findExecutable('redis-server') &&
    expandBinPaths(['/usr/lib/postgresql/*/bin']).some((d) => !!findExecutable(join(d, 'postgres')))
  );
}
