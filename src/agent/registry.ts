import type { ActionRegistry } from '../actions/registry.ts';
import { createBuiltinRegistry } from '../actions/registry.ts';

/** The registry the agent API serves: every built-in action (task actions and the ops connectors' actions). */
export function createAgentRegistry(): ActionRegistry {
  return createBuiltinRegistry();
}
