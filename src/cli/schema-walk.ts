import type { KindInfo } from '../model/catalog.ts';
import type { Platform } from '../service/platform.ts';
import { schemaOf } from '../service/schemas.ts';

/** A JSON Schema node, loosely typed for walking. */
export type SchemaNode = Record<string, unknown>;

/** The whole-object schema of a kind; for a user-defined kind, from its ResourceDefinition in the store. */
export async function kindSchema(platform: Platform, info: KindInfo): Promise<SchemaNode> {
  if (info.builtin) return schemaOf(info);
  const definitions = await platform.store.list({ kinds: ['ResourceDefinition'] });
  const definition = definitions.find(
    (d) => (d.effective.spec as { names?: { kind?: string } })?.names?.kind === info.kind,
  );
  return schemaOf(info, (definition?.effective.spec as { schema?: unknown })?.schema);
}

/** The branches of a union, or the node itself (a typed node with anyOf constraints is kept as well). */
export function branches(node: SchemaNode): SchemaNode[] {
  const union = (node.anyOf ?? node.oneOf) as SchemaNode[] | undefined;
  if (!union) return [node];
  const nested = union.flatMap(branches);
  return node.type !== undefined ? [node, ...nested] : nested;
}

/** The properties a node (or any branch of it, or its list items) declares. */
export function propertiesOf(node: SchemaNode): Record<string, SchemaNode> {
  const result: Record<string, SchemaNode> = {};
  for (const branch of branches(node)) {
    const target = branch.type === 'array' && branch.items ? (branch.items as SchemaNode) : branch;
    for (const inner of branches(target))
      Object.assign(result, (inner.properties ?? {}) as Record<string, SchemaNode>);
  }
  return result;
}

/** A short type name like `<string>`, `<[]Object>`, `<map[string]string>`. */
export function typeName(node: SchemaNode): string {
  if (node.const !== undefined) return 'string';
  const options = node.type === undefined ? branches(node) : [node];
  if (options.length > 1) return [...new Set(options.map(typeName))].join('|');
  if (node.type === 'array') return `[]${node.items ? typeName(node.items as SchemaNode) : 'any'}`;
  if (node.type === 'object') {
    if (node.properties) return 'Object';
    const values = (
      node.patternProperties ? Object.values(node.patternProperties as object)[0] : node.additionalProperties
    ) as SchemaNode | boolean | undefined;
    return `map[string]${values && typeof values === 'object' && values.type ? typeName(values) : 'any'}`;
  }
  if (node.enum) return (node.enum as unknown[]).map(String).join('|');
  return String(node.type ?? 'any');
}

/** Names of required properties of a node (over its branches). */
export function requiredOf(node: SchemaNode): Set<string> {
  const required = new Set<string>();
  for (const branch of branches(node)) {
    const target = branch.type === 'array' && branch.items ? (branch.items as SchemaNode) : branch;
    for (const r of (target.required ?? []) as string[]) required.add(r);
  }
  return required;
}
