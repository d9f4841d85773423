import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { DURATION_PATTERN, NAME_PATTERN } from './kinds/schema-helpers.ts';
import { didYouMean } from './suggest.ts';
import type { PathSegment } from './yaml-source.ts';

/** One schema violation at a JSON path of the object. */
export interface SchemaProblem {
  path: PathSegment[];
  message: string;
  fix: string;
  /** The JSON Schema keyword that failed, like `additionalProperties` or `required`. */
  keyword: string;
}

/** Converts an Ajv instancePath (JSON Pointer) into path segments. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

const PATTERN_NAMES: Record<string, string> = {
  [DURATION_PATTERN]: 'a duration like 500ms, 30s, 5m, 1h30m or 7d',
  [NAME_PATTERN]: 'a valid name (lowercase letters, digits, "-", "." and "_")',
};

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function valueAt(data: unknown, path: PathSegment[]): unknown {
  let node = data;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment as string];
  }
  return node;
}

function problemFor(error: ErrorObject, data: unknown, explainHint: string): Omit<SchemaProblem, 'keyword'> {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const explain = `Run \`${explainHint}\` to see the fields this kind accepts.`;
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
      return {
        path: [...path, field],
        message: `unknown field "${field}"${didYouMean(field, known)}`,
        fix: known.length ? `Remove the field or use one of: ${known.join(', ')}.` : explain,
      };
    }
    case 'required': {
      const field = String(params.missingProperty);
      return { path: [...path, field], message: `missing required field "${field}"`, fix: explain };
    }
    case 'type':
      return {
        path,
        message: `must be ${describeTypeName(String(params.type))}, not ${describeType(valueAt(data, path))}`,
        fix: explain,
      };
    case 'enum':
      return {
        path,
        message: `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        fix: 'Use one of the allowed values.',
      };
    case 'const':
      return {
        path,
        message: `must be ${JSON.stringify(params.allowedValue)}`,
        fix: 'Use exactly this value.',
      };
    case 'pattern':
      return {
        path,
        message: `${JSON.stringify(valueAt(data, path))} is not ${PATTERN_NAMES[String(params.pattern)] ?? `a match for ${String(params.pattern)}`}`,
        fix:
          path.at(-1) === 'name'
            ? 'Names use lowercase letters, digits, "-", "." and "_", and start and end with a letter or digit.'
            : explain,
      };
    case 'anyOf':
    case 'oneOf': {
      const description = (error.parentSchema as { description?: string })?.description;
      return {
        path,
        message: `does not match any allowed form${description ? ` (${description})` : ''}`,
        fix: explain,
      };
    }
    default:
      return { path, message: error.message ?? 'is not valid', fix: explain };
  }
}

function describeTypeName(type: string): string {
  if (type === 'object') return 'an object';
  if (type === 'array') return 'a list';
  if (type === 'integer') return 'an integer';
  return `a ${type}`;
}

// Errors inside the branches of a failed anyOf/oneOf are noise: the union error itself says what is wrong.
function dropBranchErrors(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .map((e) => e.schemaPath);
  return errors.filter((e) => !unions.some((u) => e.schemaPath !== u && e.schemaPath.startsWith(`${u}/`)));
}

/** Validates objects against kind schemas with every violation reported at once; compiles each schema once. */
export class SchemaValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: false, verbose: true, useDefaults: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  /** Compiles a schema (cached by key) and throws Ajv's message if it is not a valid JSON Schema. */
  compile(key: string, schema: object): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /** Every problem of `data` against the schema (may fill in schema defaults). */
  validate(key: string, schema: object, data: unknown, explainHint: string): SchemaProblem[] {
    const validate = this.compile(key, schema);
    if (validate(data)) return [];
    return dropBranchErrors(validate.errors ?? []).map((e) => ({
      ...problemFor(e, data, explainHint),
      keyword: e.keyword,
    }));
  }
}
