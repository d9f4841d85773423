import type { ScopeLevel } from './api.ts';
import type { DagNode } from './dag.ts';
import type { PathSegment } from './yaml-source.ts';

/** A reference from a field of an object to another object, action or dependency instance. */
export type Reference =
  /** An object of one of `kinds`, found upward from the referrer; `name` may be qualified as `domain/name`. */
  | { type: 'object'; kinds: string[]; name: string; path: PathSegment[] }
  /** A built-in action or an Action object. */
  | { type: 'action'; name: string; path: PathSegment[] }
  /** A dependency instance found upward, else a Dependency definition; `instance` is set when this entry creates one. */
  | { type: 'dependency'; name: string; instance?: string; path: PathSegment[] }
  /** A hierarchy container named by a Context. */
  | { type: 'container'; level: Exclude<ScopeLevel, 'Global'>; name: string; path: PathSegment[] };

/** A dependsOn graph inside one object, with the path of its list and the field naming each node. */
export interface EmbeddedDag {
  listPath: PathSegment[];
  nodes: DagNode[];
}

type Spec = Record<string, unknown>;
type Add = (ref: Reference) => void;

const asList = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value)
    ? value.filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object')
    : [];
const asString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

function objectRef(add: Add, kinds: string[], value: unknown, path: PathSegment[]): void {
  const name = asString(value);
  if (name) add({ type: 'object', kinds, name, path });
}

function listRefs(add: Add, kinds: string[], spec: Spec, listField: string, fields: string[]): void {
  asList(spec[listField]).forEach((item, i) => {
    const field = fields.find((f) => asString(item[f]));
    if (field) objectRef(add, kinds, item[field], ['spec', listField, i, field]);
  });
}

function stringListRefs(add: Add, kinds: string[], value: unknown, path: PathSegment[]): void {
  if (!Array.isArray(value)) return;
  value.forEach((v, i) => {
    objectRef(add, kinds, v, [...path, i]);
  });
}

function callbackRefs(add: Add, spec: Spec, fields: string[]): void {
  for (const field of fields) {
    const callback = spec[field] as Record<string, unknown> | undefined;
    const name = asString(callback?.action);
    if (name) add({ type: 'action', name, path: ['spec', field, 'action'] });
  }
}

function dependencyRefs(add: Add, spec: Spec): void {
  asList(spec.dependencies).forEach((entry, i) => {
    const ref = asString(entry.ref) ?? asString(entry.name);
    if (!ref) return;
    const instance = asString(entry.name) && asString(entry.ref) ? asString(entry.name) : undefined;
    add({
      type: 'dependency',
      name: ref,
      instance,
      path: ['spec', 'dependencies', i, entry.ref ? 'ref' : 'name'],
    });
  });
}

// Per-kind reference rules, following seed 000's "Relationship Table".
const RULES: Record<string, (spec: Spec, add: Add) => void> = {
  Ecosystem: (spec, add) => {
    dependencyRefs(add, spec);
    listRefs(add, ['DataLake'], spec, 'dataLakes', ['ref']);
  },
  Domain: (spec, add) => {
    dependencyRefs(add, spec);
    listRefs(add, ['DataStore'], spec, 'dataStores', ['ref']);
  },
  App: (spec, add) => dependencyRefs(add, spec),
  Workspace: (spec, add) => {
    const nvim = (spec.nvim ?? {}) as Spec;
    const terminal = (spec.terminal ?? {}) as Spec;
    stringListRefs(add, ['NvimPlugin'], nvim.plugins, ['spec', 'nvim', 'plugins']);
    objectRef(add, ['NvimTheme'], nvim.theme, ['spec', 'nvim', 'theme']);
    objectRef(add, ['TerminalPrompt'], terminal.prompt, ['spec', 'terminal', 'prompt']);
    stringListRefs(add, ['TerminalPlugin'], terminal.plugins, ['spec', 'terminal', 'plugins']);
    objectRef(add, ['TerminalTheme'], terminal.theme, ['spec', 'terminal', 'theme']);
    listRefs(add, ['Task'], spec, 'tasks', ['ref']);
  },
  Context: (spec, add) => {
    for (const level of ['Ecosystem', 'Domain', 'App', 'Workspace'] as const) {
      const name = asString(spec[level.toLowerCase()]);
      if (name) add({ type: 'container', level, name, path: ['spec', level.toLowerCase()] });
    }
  },
  Task: (spec, add) => {
    add({ type: 'action', name: asString(spec.action) ?? 'exec', path: ['spec', 'action'] });
    callbackRefs(add, spec, ['onSuccess', 'onFailure']);
  },
  Workflow: (spec, add) => {
    listRefs(add, ['Task'], spec, 'tasks', ['taskRef', 'ref']);
    listRefs(add, ['Task'], spec, 'finally', ['taskRef', 'ref']);
    callbackRefs(add, spec, ['onComplete', 'onSuccess', 'onFailure']);
  },
  Pipeline: (spec, add) => {
    listRefs(add, ['Workflow'], spec, 'stages', ['workflowRef', 'workflow']);
    callbackRefs(add, spec, ['onComplete', 'onSuccess', 'onFailure']);
  },
  Orchestration: (spec, add) => {
    listRefs(add, ['Pipeline'], spec, 'pipelines', ['pipelineRef']);
    callbackRefs(add, spec, ['onComplete', 'onSuccess', 'onFailure']);
  },
  Job: (spec, add) => {
    objectRef(add, ['Pipeline', 'Workflow', 'Task'], spec.runs, ['spec', 'runs']);
    objectRef(add, ['App'], spec.app, ['spec', 'app']);
    callbackRefs(add, spec, ['onSuccess', 'onFailure']);
  },
  DataRecord: (spec, add) => objectRef(add, ['DataStore'], spec.dataStoreRef, ['spec', 'dataStoreRef']),
  DataStore: (spec, add) => {
    const target = (spec.target ?? {}) as Spec;
    const dependency = asString(target.dependencyRef);
    if (dependency) add({ type: 'dependency', name: dependency, path: ['spec', 'target', 'dependencyRef'] });
    listRefs(add, ['DataRecord'], spec, 'records', ['ref']);
  },
  DataLake: (spec, add) => {
    listRefs(add, ['DataStore'], spec, 'dataStores', ['ref']);
    callbackRefs(add, spec, ['beforeSeed', 'afterSeed']);
  },
  TerminalTheme: (spec, add) => objectRef(add, ['NvimTheme'], spec.paletteRef, ['spec', 'paletteRef']),
  Operator: (spec, add) => {
    asList(spec.watches).forEach((watch, i) => {
      objectRef(add, ['Job'], watch.jobRef, ['spec', 'watches', i, 'jobRef']);
    });
  },
};

/** Every reference an object of `kind` makes from its (effective) spec. */
export function extractReferences(kind: string, spec: unknown): Reference[] {
  const refs: Reference[] = [];
  const rule = Object.hasOwn(RULES, kind) ? RULES[kind] : undefined;
  if (rule && spec && typeof spec === 'object') rule(spec as Spec, (ref) => refs.push(ref));
  return refs;
}

// The list holding each kind's dependsOn graph, and the fields an entry's name defaults to when it has none.
const DAG_LISTS: Record<string, [string, string[]]> = {
  Workflow: ['tasks', ['taskRef', 'ref']],
  Pipeline: ['stages', ['workflowRef', 'workflow']],
  Orchestration: ['pipelines', ['pipelineRef']],
};

/** The dependsOn graph of a Workflow, Pipeline or Orchestration, if the kind has one. */
export function extractDag(kind: string, spec: unknown): EmbeddedDag | undefined {
  if (!Object.hasOwn(DAG_LISTS, kind) || !spec || typeof spec !== 'object') return undefined;
  const [listField, nameFallbacks] = DAG_LISTS[kind];
  const nodes = asList((spec as Spec)[listField]).map((item) => ({
    name: String(item.name ?? nameFallbacks.map((f) => item[f]).find((v) => typeof v === 'string') ?? ''),
    dependsOn: Array.isArray(item.dependsOn) ? item.dependsOn.map(String) : [],
  }));
  return { listPath: ['spec', listField], nodes };
}
