import { randomUUID } from 'node:crypto';
import { aggregateError, DvmError } from '../../errors/dvm-error.ts';
import { objectKey, type Placement, type ResourceObject } from '../../model/api.ts';
import { inheritedFrom } from '../../model/effective.ts';
import { KIND_NAME_PATTERN, KindRegistry, kindFromDefinition } from '../../model/kind-registry.ts';
import { type SchemaProblem, SchemaValidator } from '../../model/validate.ts';
import type { PathSegment, SourceDocument } from '../../model/yaml-source.ts';
import type { PutOperation, StoredObject } from '../../store/store.ts';
import { resolvePlacement } from '../placement.ts';
import type { Platform } from '../platform.ts';
import { schemaOf } from '../schemas.ts';
import { stableStringify } from '../stable-json.ts';
import { View } from '../view.ts';
import { checkReferences } from './check-references.ts';
import { computeEffective } from './effective.ts';
import { labelOf, type Pending, ProblemList, readDocument } from './pending.ts';

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

/** The result of an apply: one outcome per object and any deprecation warnings. */
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
  await validateSchemas([...sorted, ...pendings.filter((p) => p.key === '')], view, problems);
  for (const pending of sorted) await checkReferences(pending, view, kinds, problems);
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

/**
 * Stored objects outside the batch whose effective form or references depend on objects being re-applied:
 * referrers (templates, instances, tasks, …) and the apps of a domain whose defaults may change. They are
 * recomputed and validated with the batch, so a change that would break them fails, and their stored
 * effective form never goes stale.
 */
async function storedDependents(
  platform: Platform,
  kinds: KindRegistry,
  batch: Pending[],
): Promise<Pending[]> {
  const changed = batch.filter((p) => p.existing);
  if (changed.length === 0) return [];
  const inBatch = new Set(batch.map((p) => p.key));
  const found = new Map<string, { stored: StoredObject; via: string }>();
  const byKey = new Map(changed.map((p) => [p.key, p]));
  for (const referrer of await platform.store.referrers([...byKey.keys()])) {
    const stored = await platform.store.get(referrer.kind, referrer.placement, referrer.name);
    const source = byKey.get(referrer.toKey);
    if (stored && source)
      found.set(objectKey(stored.kind, stored.placement, stored.name), {
        stored,
        via: labelOf(source.object),
      });
  }
  for (const domain of changed.filter((p) => p.info.kind === 'Domain')) {
    const apps = await platform.store.list({
      kinds: ['App'],
      placement: { ...domain.placement, domain: domain.object.metadata.name },
    });
    for (const app of apps)
      found.set(objectKey(app.kind, app.placement, app.name), { stored: app, via: labelOf(domain.object) });
  }
  const dependents: Pending[] = [];
  for (const [key, { stored, via }] of found) {
    const info = kinds.get(stored.kind);
    if (inBatch.has(key) || !info) continue;
    const object = withoutSystem(stored.applied);
    const doc: SourceDocument = {
      file: `<stored ${stored.kind}/${stored.name}>`,
      index: 0,
      data: object,
      locate: () => ({ line: 0, column: 0 }),
    };
    dependents.push({
      doc,
      info,
      object,
      placement: stored.placement,
      key,
      effective: object,
      provenance: {},
      refs: [],
      existing: stored,
      via,
    });
  }
  return dependents;
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
    const given: Placement = {};
    for (const field of ['ecosystem', 'domain', 'app', 'workspace'] as const) {
      if (typeof metadata[field] === 'string') given[field] = metadata[field] as string;
    }
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

async function definitionSchemas(view: View): Promise<Map<string, unknown>> {
  const schemas = new Map<string, unknown>();
  for (const definition of await view.findAll('ResourceDefinition', undefined, {})) {
    const spec = (definition.effective.spec ?? {}) as { names?: { kind?: string }; schema?: unknown };
    if (spec.names?.kind) schemas.set(spec.names.kind, spec.schema);
  }
  return schemas;
}

// Compiled schemas are kept for the life of the process (built-in kinds compile once; custom kinds are keyed
// by their schema's content), which matters to long-running callers such as the API server and the fuzz test.
let sharedValidator: SchemaValidator | undefined;

async function validateSchemas(pendings: Pending[], view: View, problems: ProblemList): Promise<void> {
  sharedValidator ??= new SchemaValidator();
  const validator = sharedValidator;
  const definitions = await definitionSchemas(view);
  // Names taken by user-defined kinds already stored (a batch definition replaces its own stored version).
  const claimed = new Map<string, string>();
  for (const stored of await view.findAll('ResourceDefinition', undefined, {})) {
    if (pendings.some((p) => p.key === stored.key)) continue;
    const info = kindFromDefinition(stored.effective);
    for (const name of [info.kind, info.plural, info.singular, ...info.shortNames])
      claimed.set(name.toLowerCase(), stored.key);
  }
  for (const pending of pendings) {
    const { info } = pending;
    const label = labelOf(pending.object);
    let schema: Record<string, unknown>;
    try {
      schema = schemaOf(info, definitions.get(info.kind));
    } catch (error) {
      problems.add(pending.doc, label, ['kind'], {
        code: 'DVM_SCHEMA_INVALID',
        message: `the schema of ${info.kind} is not valid: ${(error as Error).message}`,
        fix: `Fix spec.schema of the ResourceDefinition for ${info.kind}.`,
      });
      continue;
    }
    const key = info.builtin ? info.kind : `${info.kind}@${stableStringify(schema)}`;
    let found: SchemaProblem[];
    try {
      found = validator.validate(key, schema, pending.effective, `dvm explain ${info.kind.toLowerCase()}`);
    } catch (error) {
      problems.add(pending.doc, label, ['kind'], {
        code: 'DVM_SCHEMA_INVALID',
        message: `the schema of ${info.kind} does not compile: ${(error as Error).message}`,
        fix: `Fix spec.schema of the ResourceDefinition for ${info.kind}.`,
      });
      continue;
    }
    for (const problem of found) {
      const dotted = problem.path.map(String).join('.');
      const inherited = inheritedFrom(pending.provenance, dotted);
      problems.add(pending.doc, label, problem.path as PathSegment[], {
        code: 'DVM_SCHEMA_INVALID',
        message: inherited ? `${problem.message} (inherited from ${inherited})` : problem.message,
        fix: problem.fix,
      });
    }
    if (info.kind === 'ResourceDefinition') checkDefinition(pending, validator, problems, claimed);
  }
}

function checkDefinition(
  pending: Pending,
  validator: SchemaValidator,
  problems: ProblemList,
  claimed: Map<string, string>,
): void {
  const spec = (pending.effective.spec ?? {}) as Record<string, unknown>;
  const label = labelOf(pending.object);
  const info = kindFromDefinition(pending.effective);
  const builtins = new KindRegistry();
  for (const name of new Set(
    [info.kind, info.plural, info.singular, ...info.shortNames].map((n) => n.toLowerCase()),
  )) {
    const owner = builtins.lookup(name);
    const other = claimed.get(name);
    if (owner) {
      problems.add(pending.doc, label, ['spec', 'names'], {
        code: 'DVM_SCHEMA_INVALID',
        message: `"${name}" is already a name of the built-in kind ${owner.kind}`,
        fix: 'Choose names no built-in kind uses (dvm api-resources lists them).',
      });
    } else if (other && other !== pending.key) {
      problems.add(pending.doc, label, ['spec', 'names'], {
        code: 'DVM_CONFLICT',
        message: `"${name}" is already a name of the kind defined by ${other.split('/').pop()}`,
        fix: 'Choose other names, or change that ResourceDefinition instead.',
      });
    } else claimed.set(name, pending.key);
  }
  try {
    validator.compile(`definition:${pending.key}:${stableStringify(spec.schema)}`, spec.schema as object);
  } catch (error) {
    problems.add(pending.doc, label, ['spec', 'schema'], {
      code: 'DVM_SCHEMA_INVALID',
      message: `spec.schema is not a valid JSON Schema: ${(error as Error).message}`,
      fix: 'Correct the schema (JSON Schema draft-07 keywords).',
    });
  }
}

function checkVersion(pending: Pending, mode: ApplyMode, problems: ProblemList): void {
  const label = labelOf(pending.object);
  if (pending.existing && mode === 'create') {
    problems.add(pending.doc, label, ['metadata', 'name'], {
      code: 'DVM_ALREADY_EXISTS',
      message: `${label} already exists`,
      fix: 'Use `dvm apply -f` to change it, or choose another name.',
    });
  }
  const given = pending.inputResourceVersion;
  if (given !== undefined && pending.existing && given !== String(pending.existing.resourceVersion)) {
    problems.add(pending.doc, label, ['metadata', 'resourceVersion'], {
      code: 'DVM_CONFLICT',
      message: `${label} is at resourceVersion ${pending.existing.resourceVersion}, not ${given}: it changed since you read it`,
      fix: 'Get the object again (dvm get -o yaml), redo your change, and apply; or remove metadata.resourceVersion to overwrite.',
    });
  }
}

function planWrite(
  pending: Pending,
  timestamp: string,
): { put?: PutOperation; action: ApplyOutcome['action'] } {
  const existing = pending.existing;
  const appliedSame =
    existing && stableStringify(withoutSystem(existing.applied)) === stableStringify(withPlacement(pending));
  const effectiveSame =
    existing &&
    stableStringify(withoutSystem(existing.effective)) === stableStringify(withoutSystem(pending.effective));
  if (existing && appliedSame && effectiveSame) return { action: 'unchanged' };
  const specChanged =
    !existing || stableStringify(existing.effective.spec) !== stableStringify(pending.effective.spec);
  const generation = existing ? existing.generation + (specChanged ? 1 : 0) : 1;
  const uid = existing?.uid ?? randomUUID();
  const createdAt = existing?.createdAt ?? timestamp;
  const system = { uid, creationTimestamp: createdAt, generation };
  const stored: StoredObject = {
    uid,
    kind: pending.info.kind,
    name: pending.object.metadata.name,
    placement: pending.placement,
    applied: { ...withPlacement(pending), metadata: { ...withPlacement(pending).metadata, ...system } },
    effective: { ...pending.effective, metadata: { ...pending.effective.metadata, ...system } },
    provenance: pending.provenance,
    generation,
    resourceVersion: 0,
    createdAt,
    updatedAt: timestamp,
  };
  return {
    put: { object: stored, expectedResourceVersion: existing?.resourceVersion ?? 0, refs: pending.refs },
    action: existing ? 'configured' : 'created',
  };
}

// Metadata reads name first, then the location outermost first, then the rest.
function withPlacement(pending: Pending): ResourceObject {
  const { name, ...rest } = pending.object.metadata;
  return { ...pending.object, metadata: { name, ...pending.placement, ...rest } };
}

const SYSTEM_METADATA = new Set(['uid', 'creationTimestamp', 'generation', 'resourceVersion']);

function withoutSystem(object: ResourceObject): ResourceObject {
  return {
    ...object,
    metadata: Object.fromEntries(
      Object.entries(object.metadata).filter(([k]) => !SYSTEM_METADATA.has(k)),
    ) as ResourceObject['metadata'],
  };
}

/** Throws DVM_INTERNAL if a code path hands apply no documents (the CLI reports empty input itself). */
export function assertDocuments(docs: SourceDocument[]): void {
  if (docs.length === 0)
    throw new DvmError('DVM_USAGE', 'no objects found in the input', {
      fix: 'Pass a file or directory with YAML documents to -f.',
    });
}
