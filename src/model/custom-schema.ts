import type { KindInfo } from './catalog.ts';
import { Metadata } from './kinds/schema-helpers.ts';

type Schema = Record<string, unknown>;

// Unknown fields are errors for user-defined kinds too: close every object schema that lists properties.
function closeObjects(schema: unknown): void {
  if (!schema || typeof schema !== 'object') return;
  if (Array.isArray(schema)) {
    for (const item of schema) closeObjects(item);
    return;
  }
  const s = schema as Schema;
  if (s.properties && typeof s.properties === 'object' && s.additionalProperties === undefined) {
    s.additionalProperties = false;
  }
  for (const key of ['properties', 'patternProperties', 'definitions', '$defs']) {
    const map = s[key];
    if (map && typeof map === 'object') for (const child of Object.values(map)) closeObjects(child);
  }
  for (const key of [
    'items',
    'additionalProperties',
    'not',
    'allOf',
    'anyOf',
    'oneOf',
    'if',
    'then',
    'else',
  ]) {
    closeObjects(s[key]);
  }
}

/**
 * The whole-object schema of a user-defined kind. The ResourceDefinition's schema describes the object below
 * metadata (it has a `spec` property), or, when it has no `spec` property, the spec itself.
 */
export function customKindSchema(info: KindInfo, definitionSchema: unknown): Schema {
  const source = structuredClone((definitionSchema ?? {}) as Schema);
  const properties = (source.properties ?? {}) as Schema;
  const body: Schema = 'spec' in properties ? source : { type: 'object', properties: { spec: source } };
  closeObjects(body);
  return {
    type: 'object',
    description: info.description,
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata', ...((body.required as string[]) ?? [])],
    properties: {
      apiVersion: { const: info.apiVersion, description: `Always ${info.apiVersion}.` },
      kind: { const: info.kind, description: `Always ${info.kind}.` },
      metadata: Metadata,
      ...(body.properties as Schema),
    },
  };
}
