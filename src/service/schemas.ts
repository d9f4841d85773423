import type { KindInfo } from '../model/catalog.ts';
import { customKindSchema } from '../model/custom-schema.ts';
import { BUILTIN_SCHEMAS } from '../model/kinds/index.ts';

/** The whole-object JSON Schema of a kind: built-in, or from the ResourceDefinition's spec.schema. */
export function schemaOf(info: KindInfo, definitionSchema?: unknown): Record<string, unknown> {
  if (info.builtin) return BUILTIN_SCHEMAS[info.kind] as unknown as Record<string, unknown>;
  return customKindSchema(info, definitionSchema);
}
