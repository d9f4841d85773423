import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { DURATION_PATTERN, NAME_PATTERN } from './kinds/schema-helpers.ts';
import { DURATION_WORDING, describeTypeName, describeValue, dropBranchErrors } from './schema-wording.ts';
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
  [DURATION_PATTERN]: DURATION_WORDING,
  [NAME_PATTERN]: 'a valid name (lowercase letters, digits, "-", "." and "_")',
};

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
    case 'type': {
      const value = valueAt(data, path);
      // YAML reads 5, 1.0 and true as a number or boolean; a string field (an argv element) wants them quoted.
      const quotable = params.type === 'string' && (typeof value === 'number' || typeof value === 'boolean');
      return {
        path,
        message: `must be ${describeTypeName(String(params.type))}, not ${describeValue(value)}`,
        fix: quotable
          ? `Quote it: "${String(value)}" (YAML reads ${String(value)} as a ${typeof value}; this field takes text).`
          : explain,
      };
    }
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
    case 'minItems':
    case 'minLength': {
      const limit = Number(params.limit);
      const unit = error.keyword === 'minItems' ? 'item' : 'character';
      return {
        path,
        message: limit === 1 ? 'must not be empty' : `must have at least ${limit} ${unit}s`,
        fix: explain,
      };
    }
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
