import type { ResourceObject } from '../../model/api.ts';
import { objectKey, type Placement, placementFieldsOf, placementLabel } from '../../model/api.ts';
import { BUILTIN_ACTION_NAMES } from '../../model/builtin-actions.ts';
import { checkDag } from '../../model/dag.ts';
import type { KindRegistry } from '../../model/kind-registry.ts';
import { formatPath } from '../../model/path.ts';
import { extractDag, extractReferences, type Reference } from '../../model/references.ts';
import { didYouMean } from '../../model/suggest.ts';
import { CATALOG_NAMES } from '../deps/catalog.ts';
import type { View, ViewObject } from '../view.ts';
import { checkActionParams } from './check-action-params.ts';
import { labelOf, type Pending, type ProblemList } from './pending.ts';

const INNER_FIELD: Partial<Record<string, 'ecosystem' | 'domain' | 'app' | 'workspace'>> = {
  Ecosystem: 'ecosystem',
  Domain: 'domain',
  App: 'app',
  Workspace: 'workspace',
};

type Lookup = { found: ViewObject } | { ambiguous: ViewObject[] } | { missing: true };

/** Finds the object a name refers to, upward from `from`; `domain/name` qualifies the innermost parent. */
export async function resolveObjectRef(
  view: View,
  kinds: KindRegistry,
  from: Placement,
  targetKinds: string[],
  name: string,
): Promise<Lookup> {
  for (const kind of targetKinds) {
    const info = kinds.get(kind);
    if (!info) continue;
    const fields = placementFieldsOf(info.scope);
    const parts = name.split('/');
    const simple = parts.pop() as string;
    if (parts.length > fields.length) continue;
    const target: Placement = {};
    fields.forEach((field, i) => {
      const qualifier = parts[i - (fields.length - parts.length)];
      const value = i >= fields.length - parts.length ? qualifier : from[field];
      if (value !== undefined) target[field] = value;
    });
    const complete = fields.every((f) => target[f] !== undefined);
    const candidates = complete
      ? [await view.find(kind, target, simple)].filter((o): o is ViewObject => o !== undefined)
      : await view.findAll(kind, simple, target);
    if (candidates.length === 1) return { found: candidates[0] };
    if (candidates.length > 1) return { ambiguous: candidates };
  }
  return { missing: true };
}

function instanceNames(container: ViewObject | undefined): Set<string> {
  const deps = (container?.effective.spec as Record<string, unknown> | undefined)?.dependencies;
  const names = new Set<string>();
  if (Array.isArray(deps)) for (const d of deps) if (d && typeof d.name === 'string') names.add(d.name);
  return names;
}

// The seed's sharing rule: a name is an instance of this object, of its domain or its ecosystem, else a definition.
async function resolveDependency(
  view: View,
  pending: Pending,
  ref: Extract<Reference, { type: 'dependency' }>,
): Promise<{ found?: ViewObject; local?: boolean }> {
  if (ref.instance === undefined) {
    const own = (pending.effective.spec?.dependencies ?? []) as Record<string, unknown>[];
    if (Array.isArray(own) && own.some((d) => d?.name === ref.name && d.ref !== undefined))
      return { local: true };
  }
  const { ecosystem, domain } = pending.placement;
  const upward: [string, Placement, string | undefined][] = [
    ['Domain', { ecosystem }, domain],
    ['Ecosystem', {}, ecosystem],
  ];
  for (const [kind, placement, name] of upward) {
    if (name === undefined) continue;
    const container = await view.find(kind, placement, name);
    if (container && instanceNames(container).has(ref.name)) return { found: container };
  }
  const definition = await view.find('Dependency', {}, ref.name);
  return definition ? { found: definition } : {};
}

/** Resolves every reference of a pending object (recording edges), and checks its dependsOn graph and seed order. */
export async function checkReferences(
  pending: Pending,
  view: View,
  kinds: KindRegistry,
  problems: ProblemList,
): Promise<void> {
  const label = labelOf(pending.object);
  const spec = pending.effective.spec;
  // A container resolves its references from inside itself: Domain payments's dataStores are payments's own.
  const inner = INNER_FIELD[pending.info.kind];
  const from: Placement = inner
    ? { ...pending.placement, [inner]: pending.object.metadata.name }
    : pending.placement;
  for (const ref of extractReferences(pending.info.kind, spec)) {
    const where = formatPath(ref.path);
    if (ref.type === 'action') {
      if (BUILTIN_ACTION_NAMES.has(ref.name)) {
        checkActionParams(pending, problems, ref.path, ref.name, undefined);
        continue;
      }
      const action = await view.find('Action', {}, ref.name);
      if (action) {
        pending.refs.push({ toKey: action.key, path: where });
        checkActionParams(pending, problems, ref.path, ref.name, {
          apiVersion: 'devopsmaestro.io/v1',
          kind: 'Action',
          metadata: { name: action.name },
          spec: action.effective.spec,
        } as ResourceObject);
      } else {
        problems.add(pending.doc, label, ref.path, {
          code: 'DVM_REF_NOT_FOUND',
          message: `action "${ref.name}" is neither built in nor an Action object${didYouMean(ref.name, BUILTIN_ACTION_NAMES)}`,
          fix: 'Use a built-in action (dvm get actions lists user-defined ones) or apply an Action with this name.',
        });
      }
    } else if (ref.type === 'container') {
      const found = await view.findAll(ref.level, ref.name, {});
      if (found.length === 0) {
        problems.add(pending.doc, label, ref.path, {
          code: 'DVM_REF_NOT_FOUND',
          message: `${ref.level.toLowerCase()} "${ref.name}" does not exist`,
          fix: `Create the ${ref.level.toLowerCase()} first, or correct the name.`,
        });
      }
    } else if (ref.type === 'dependency') {
      const result = await resolveDependency(view, pending, ref);
      if (result.found) pending.refs.push({ toKey: result.found.key, path: where });
      else if (!result.local && !CATALOG_NAMES.includes(ref.name)) {
        problems.add(pending.doc, label, ref.path, {
          code: 'DVM_REF_NOT_FOUND',
          message: `dependency "${ref.name}" is not an instance of this ${pending.info.kind.toLowerCase()}, its domain or its ecosystem, nor a Dependency definition (built in: ${CATALOG_NAMES.join(', ')})`,
          fix: 'Declare the instance upward (name + ref), apply a Dependency with this name, or correct the name.',
        });
      }
    } else {
      const result = await resolveObjectRef(view, kinds, from, ref.kinds, ref.name);
      if ('found' in result) pending.refs.push({ toKey: result.found.key, path: where });
      else if ('ambiguous' in result) {
        problems.add(pending.doc, label, ref.path, {
          code: 'DVM_AMBIGUOUS',
          message: `"${ref.name}" matches ${result.ambiguous.length} objects: ${result.ambiguous.map((o) => `${o.kind}/${o.name} in ${placementLabel(o.placement)}`).join(', ')}`,
          fix: 'Qualify the reference as DOMAIN/NAME.',
        });
      } else {
        const existing = await view.findAll(ref.kinds[0], undefined, {});
        problems.add(pending.doc, label, ref.path, {
          code: 'DVM_REF_NOT_FOUND',
          message: `${ref.kinds.join(' or ')} "${ref.name}" not found from ${placementLabel(from) || 'global scope'}${didYouMean(
            ref.name,
            existing.map((o) => o.name),
          )}`,
          fix: `Apply the ${ref.kinds[0]} in the same batch or first, or correct the name (qualify as DOMAIN/NAME for another domain).`,
        });
      }
    }
  }
  checkGraph(pending, problems, label);
  checkSeedOrder(pending, problems, label);
}

function checkGraph(pending: Pending, problems: ProblemList, label: string): void {
  const dag = extractDag(pending.info.kind, pending.effective.spec);
  if (!dag) return;
  const seen = new Map<string, number>();
  dag.nodes.forEach((node, i) => {
    if (seen.has(node.name)) {
      problems.add(pending.doc, label, [...dag.listPath, i, 'name'], {
        code: 'DVM_DUPLICATE',
        message: `"${node.name}" is also the name of entry ${seen.get(node.name)}`,
        fix: 'Give every entry a unique name; dependsOn refers to entries by name.',
      });
    } else seen.set(node.name, i);
  });
  const result = checkDag(dag.nodes);
  for (const [i, j, name] of result.missing) {
    problems.add(pending.doc, label, [...dag.listPath, i, 'dependsOn', j], {
      code: 'DVM_REF_NOT_FOUND',
      message: `dependsOn "${name}" names no entry of ${formatPath(dag.listPath)}${didYouMean(name, seen.keys())}`,
      fix: `Use the name of another entry: ${[...seen.keys()].join(', ')}.`,
    });
  }
  if (result.cycle) {
    problems.add(pending.doc, label, dag.listPath, {
      code: 'DVM_DAG_CYCLE',
      message: `dependsOn forms a cycle: ${result.cycle.join(' → ')}`,
      fix: 'Remove one dependsOn edge of the cycle.',
    });
  }
}

function checkSeedOrder(pending: Pending, problems: ProblemList, label: string): void {
  if (pending.info.kind !== 'DataLake') return;
  const spec = (pending.effective.spec ?? {}) as Record<string, unknown>;
  const stores = new Set(
    (Array.isArray(spec.dataStores) ? spec.dataStores : [])
      .map((s: { ref?: unknown }) => (typeof s?.ref === 'string' ? s.ref.split('/').pop() : undefined))
      .filter((s): s is string => s !== undefined),
  );
  const order = Array.isArray(spec.seedOrder) ? spec.seedOrder : [];
  order.forEach((name: unknown, i: number) => {
    if (typeof name === 'string' && !stores.has(name)) {
      problems.add(pending.doc, label, ['spec', 'seedOrder', i], {
        code: 'DVM_SEED_ORDER',
        message: `seedOrder names "${name}", which is not in spec.dataStores${didYouMean(name, stores)}`,
        fix: `Add it to spec.dataStores or use one of: ${[...stores].join(', ')}.`,
      });
    }
  });
}

/** `objectKey` of the Template a spec names, for the reference edge. */
export function templateKey(name: string): string {
  return objectKey('Template', {}, name);
}
