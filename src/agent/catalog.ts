import type { ActionDefinition } from '../actions/action.ts';
import { DEFAULT_ACTION_TIMEOUTS } from '../actions/artifact.ts';

/** One action as the catalog shows it (`GET /v1/actions`, `dvm action list -o json`, `dvm action describe`). */
export interface CatalogEntry {
  name: string;
  version: string;
  description: string;
  risk: ActionDefinition['risk'];
  timeouts: { defaultMs: number; maxMs: number };
  input_schema: Record<string, unknown>;
  output_schema: Record<string, unknown>;
}

/** The catalog entry of an action: what a caller needs to call it, in the API's snake_case. */
export function catalogEntry(definition: ActionDefinition): CatalogEntry {
  return {
    name: definition.name,
    version: definition.version,
    description: definition.description,
    risk: definition.risk,
    timeouts: definition.timeouts ?? { ...DEFAULT_ACTION_TIMEOUTS },
    input_schema: definition.inputSchema,
    output_schema: definition.outputSchema,
  };
}
