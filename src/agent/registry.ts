import type { ActionRegistry } from '../actions/registry.ts';
import { createBuiltinRegistry } from '../actions/registry.ts';
import { dataActions } from '../service/data/actions.ts';

/**
 * The registry the agent API serves: every built-in action (task actions, the ops connectors' actions) and, with
 * a dvm home, the data.* actions on its DataStores.
 */
export function createAgentRegistry(home?: string): ActionRegistry {
  const registry = createBuiltinRegistry();
  if (home) for (const definition of dataActions(home)) registry.register(definition);
  return registry;
}
