import type { ActionRegistry } from '../actions/registry.ts';
import { createBuiltinRegistry } from '../actions/registry.ts';
import { dataActions } from '../service/data/actions.ts';
import { liveActions } from '../service/live/actions.ts';

/**
 * The registry the agent API serves: every built-in action (task actions, the ops connectors' actions) and, with
 * a dvm home, the data.* actions on its DataStores and the service.* and chaos.* actions on its live apps and
 * dependency instances.
 */
export function createAgentRegistry(home?: string): ActionRegistry {
  const registry = createBuiltinRegistry();
  if (home)
    for (const definition of [...dataActions(home), ...liveActions(home)]) registry.register(definition);
  return registry;
}
