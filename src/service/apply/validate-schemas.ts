import { inheritedFrom } from '../../model/effective.ts';
import { KindRegistry, kindFromDefinition } from '../../model/kind-registry.ts';
import { didYouMean } from '../../model/suggest.ts';
import { type SchemaProblem, SchemaValidator } from '../../model/validate.ts';
import type { PathSegment } from '../../model/yaml-source.ts';
import { schemaOf } from '../schemas.ts';
import { stableStringify } from '../stable-json.ts';
import type { View } from '../view.ts';
import { labelOf, type Pending, type ProblemList } from './pending.ts';

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

/** Validates each pending object's effective form against its kind's schema, and ResourceDefinitions' own rules. */
export async function validateSchemas(
  pendings: Pending[],
  view: View,
  kinds: KindRegistry,
  problems: ProblemList,
): Promise<void> {
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
    let found: SchemaProblem[];
    try {
      const schema = schemaOf(info, definitions.get(info.kind));
      const key = info.builtin ? info.kind : `${info.kind}@${stableStringify(schema)}`;
      found = validator.validate(key, schema, pending.effective, `dvm explain ${info.kind.toLowerCase()}`);
    } catch (error) {
      // Only a user-defined kind's schema can fail to build or compile; its ResourceDefinition reports why too.
      problems.add(pending.doc, label, ['kind'], {
        code: 'DVM_SCHEMA_INVALID',
        message: `the schema of ${info.kind} cannot be used: ${(error as Error).message}`,
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
    if (info.kind === 'Template') checkTemplateDefaults(pending, kinds, definitions, validator, problems);
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

// Fields a template may leave out (the objects using it supply them) are not its problems; unknown fields
// and wrong types are, and are caught when the template is applied rather than when something first uses it.
const PARTIAL_KEYWORDS = new Set(['required', 'anyOf', 'oneOf']);

function checkTemplateDefaults(
  pending: Pending,
  kinds: KindRegistry,
  definitions: Map<string, unknown>,
  validator: SchemaValidator,
  problems: ProblemList,
): void {
  const spec = (pending.effective.spec ?? {}) as { targetKind?: unknown; defaults?: unknown };
  const label = labelOf(pending.object);
  if (typeof spec.targetKind !== 'string') return;
  const target = kinds.get(spec.targetKind);
  if (!target) {
    problems.add(pending.doc, label, ['spec', 'targetKind'], {
      code: 'DVM_KIND_UNKNOWN',
      message: `targetKind "${spec.targetKind}" is not a kind${didYouMean(
        spec.targetKind,
        kinds.all().map((k) => k.kind),
      )}`,
      fix: 'Use a kind name as `dvm api-resources` lists it (KIND column).',
    });
    return;
  }
  if (!spec.defaults || typeof spec.defaults !== 'object') return;
  const schema = schemaOf(target, definitions.get(target.kind));
  const key = target.builtin ? target.kind : `${target.kind}@${stableStringify(schema)}`;
  const probe = {
    apiVersion: target.apiVersion,
    kind: target.kind,
    metadata: { name: 'template-probe' },
    spec: structuredClone(spec.defaults),
  };
  for (const problem of validator.validate(
    key,
    schema,
    probe,
    `dvm explain ${target.kind.toLowerCase()}.spec`,
  )) {
    if (PARTIAL_KEYWORDS.has(problem.keyword) || problem.path[0] !== 'spec') continue;
    problems.add(pending.doc, label, ['spec', 'defaults', ...problem.path.slice(1)], {
      code: 'DVM_SCHEMA_INVALID',
      message: `${problem.message} (for ${target.kind})`,
      fix: problem.fix,
    });
  }
}
