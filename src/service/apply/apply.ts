import { aggregateError } from '../../errors/dvm-error.ts';
import { objectKey, type Placement, placementOf, type ResourceObject } from '../../model/api.ts';
import { KIND_NAME_PATTERN, KindRegistry, kindFromDefinition } from '../../model/kind-registry.ts';
import type { SourceDocument } from '../../model/yaml-source.ts';
import type { PutOperation } from '../../store/store.ts';
import { resolvePlacement } from '../placement.ts';
import type { Platform } from '../platform.ts';
import { View } from '../view.ts';
import { checkExecution, triggerWarnings } from './check-execution.ts';
import { type HostCache, hostWarnings } from './check-host.ts';
import { checkReferences } from './check-references.ts';
import { storedDependents } from './dependents.ts';
import { computeEffective } from './effective.ts';
import { labelOf, type Pending, ProblemList, readDocument } from './pending.ts';
import { validateSchemas } from './validate-schemas.ts';
import { checkVersion, planWrite, withoutSystem, withPlacement } from './write-plan.ts';

/** How an apply treats objects that already exist. */
export type ApplyMode = 'apply' | 'create';

/** Options of an apply. */
export interface ApplyOptions {
  /** Parents for objects whose metadata does not name them (from -e/-d/-a/-w or the context). */
  defaults?: Placement;
  dryRun?: boolean;
  /** `create` fails on objects that exist; `apply` configures them. */
  mode?: ApplyMode;
  now?: () => Date;
}

/** What happened to one object. */
export interface ApplyOutcome {
  kind: string;
  name: string;
  placement: Placement;
  action: 'created' | 'configured' | 'unchanged';
  /** The object as it will be stored (system metadata left out). */
  applied: ResourceObject;
  /** The stored object before this apply (system metadata left out), if it existed. */
  previous?: ResourceObject;
  /** For a stored object recomputed because something it inherits from or refers to changed: what changed. */
  via?: string;
}

/** The result of an apply: one outcome per object, and warnings (deprecated fields, programs or directories missing here). */
export interface ApplyResult {
  outcomes: ApplyOutcome[];
  warnings: string[];
}

// Containers are placed first so the objects inside them can find them; templates and definitions are
// computed before the objects that use them.
const PLACEMENT_ORDER = ['Ecosystem', 'Domain', 'App', 'Workspace'];
const EFFECTIVE_ORDER = ['ResourceDefinition', 'Template', 'Ecosystem', 'Domain'];

function rank(order: string[], kind: string): number {
  const i = order.indexOf(kind);
  return i === -1 ? order.length : i;
}

function registryWithBatchDefinitions(base: KindRegistry, docs: SourceDocument[]): KindRegistry {
  const registry = new KindRegistry(base.all());
  for (const doc of docs) {
    const data = doc.data as ResourceObject | null;
    if (data?.kind !== 'ResourceDefinition' || typeof data.spec !== 'object' || data.spec === null) continue;
    const info = kindFromDefinition(data);
    // Only well-formed kind names: the schema check that rejects the others runs later in the batch.
    if (KIND_NAME_PATTERN.test(info.kind) && !base.get(info.kind)?.builtin) registry.add(info);
  }
  return registry;
}

/**
 * Applies a batch of documents atomically: every document is placed, expanded (templates, domain defaults),
 * validated against its schema and the store, and its references resolved; any problem fails the whole batch
 * with every cause listed, and nothing is written.
 */
export async function applyDocuments(
  platform: Platform,
  docs: SourceDocument[],
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const { defaults = {}, dryRun = false, mode = 'apply', now = () => new Date() } = options;
  const kinds = registryWithBatchDefinitions(platform.kinds, docs);
  const problems = new ProblemList();
  const warnings: string[] = [];
  const view = new View(platform.store);
  for (const kind of PLACEMENT_ORDER) await view.preload(kind);

  const pendings: Pending[] = [];
  for (const doc of docs) {
    const read = readDocument(doc, kinds, problems, warnings);
    if (!read) continue;
    pendings.push({ doc, ...read, placement: {}, key: '', effective: read.object, provenance: {}, refs: [] });
  }

  await placeAll(pendings, view, defaults, problems);
  const batch = pendings.filter((p) => p.key !== '');
  for (const pending of batch) {
    pending.existing = await platform.store.get(
      pending.info.kind,
      pending.placement,
      pending.object.metadata.name,
    );
    checkVersion(pending, mode, problems);
  }
  const dependents = await storedDependents(platform, kinds, batch);
  const placed = [...batch, ...dependents];
  const sorted = [...placed].sort(
    (a, b) => rank(EFFECTIVE_ORDER, a.info.kind) - rank(EFFECTIVE_ORDER, b.info.kind),
  );
  for (const pending of sorted) {
    await computeEffective(pending, view, problems);
    view.put({
      kind: pending.info.kind,
      name: pending.object.metadata.name,
      placement: pending.placement,
      effective: pending.effective,
      key: pending.key,
    });
  }
  // Unplaced objects are still checked against their schema, so one run reports every problem.
  await validateSchemas([...sorted, ...pendings.filter((p) => p.key === '')], view, kinds, problems);
  const host: HostCache = new Map();
  for (const pending of sorted) {
    await checkReferences(pending, view, kinds, problems);
    await checkExecution(pending, view, kinds, problems);
    if (!pending.via)
      warnings.push(...hostWarnings(pending, host), ...(await triggerWarnings(pending, view, kinds)));
  }
  if (problems.size > 0)
    throw aggregateError(
      problems.sorted(),
      `in ${docs.length === 1 ? 'the document' : `${docs.length} documents`}`,
    );

  const timestamp = now().toISOString();
  const puts: PutOperation[] = [];
  const outcomes: ApplyOutcome[] = [];
  for (const pending of placed) {
    const { put, action } = planWrite(pending, timestamp);
    if (put) puts.push(put);
    if (pending.via && action === 'unchanged') continue;
    outcomes.push({
      via: pending.via,
      kind: pending.info.kind,
      name: pending.object.metadata.name,
      placement: pending.placement,
      action,
      applied: withPlacement(pending),
      previous: pending.existing ? withoutSystem(pending.existing.applied) : undefined,
    });
  }
  if (!dryRun && puts.length > 0) await platform.store.write({ puts, deletes: [] });
  return { outcomes, warnings };
}

async function placeAll(
  pendings: Pending[],
  view: View,
  defaults: Placement,
  problems: ProblemList,
): Promise<void> {
  const order = [...pendings].sort(
    (a, b) => rank(PLACEMENT_ORDER, a.info.kind) - rank(PLACEMENT_ORDER, b.info.kind),
  );
  const seen = new Map<string, Pending>();
  for (const pending of order) {
    const { metadata } = pending.object;
    const given = placementOf(metadata);
    const label = labelOf(pending.object);
    const result = await resolvePlacement(view, pending.info.kind, pending.info.scope, given, defaults);
    if ('problem' in result) {
      const path = result.problem.path?.split('.') ?? [];
      problems.add(pending.doc, label, path, {
        code: result.problem.code,
        message: result.problem.message,
        fix: result.problem.fix,
      });
      continue;
    }
    const key = objectKey(pending.info.kind, result.placement, metadata.name);
    const twin = seen.get(key);
    if (twin) {
      const where = twin.doc.locate([]);
      problems.add(pending.doc, label, [], {
        code: 'DVM_DUPLICATE',
        message: `${label} is also defined at ${twin.doc.file}:${where.line}`,
        fix: 'Keep one definition of each object in a batch.',
      });
      continue;
    }
    seen.set(key, pending);
    pending.placement = result.placement;
    pending.key = key;
    if (PLACEMENT_ORDER.includes(pending.info.kind)) {
      view.put({
        kind: pending.info.kind,
        name: metadata.name,
        placement: result.placement,
        effective: pending.object,
        key,
      });
    }
  }
}
