import { DvmError, type ErrorCause } from '../errors/dvm-error.ts';
import type { ResourceObject } from '../model/api.ts';
import { SECRET_KEY } from '../model/secret-names.ts';
import type { ActionDefinition, Risk } from './action.ts';
import { EXEC_OUTPUT_SCHEMA } from './builtin/exec.ts';
import { displayArgv, type ProcessResult, runProcess } from './process.ts';

/** One declared input of an Action object (`spec.inputs[]`). */
export type ActionInputSpec = {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  required?: boolean;
  default?: unknown;
  description?: string;
};

const RISKS: readonly Risk[] = ['read', 'write', 'destructive'];
// `{{ … }}` anywhere in an argument; what is inside must be `inputs.NAME`.
const PLACEHOLDER = /\{\{(.*?)\}\}/g;
const INPUT_REF = /^\s*inputs\.([A-Za-z_][A-Za-z0-9_]*)\s*$/;

/** The JSON Schema of an Action object's inputs: typed properties, required ones, defaults, nothing else. */
export function inputSchemaOf(inputs: readonly ActionInputSpec[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const input of inputs) {
    properties[input.name] = {
      type: input.type,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.default !== undefined ? { default: input.default } : {}),
    };
  }
  const required = inputs.filter((i) => i.required).map((i) => i.name);
  return {
    type: 'object',
    additionalProperties: false,
    properties,
    ...(required.length ? { required } : {}),
  };
}

/** An input value as argv text: strings as they are, numbers and booleans as text, objects and lists as JSON. */
function argText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Fills `{{ inputs.NAME }}` placeholders into an argv, one element at a time: a value becomes (part of) exactly
 * the element its placeholder is in: never split, never re-scanned for placeholders, never seen by a shell. An
 * input that is declared but not given renders as an empty string. A placeholder naming no declared input (or
 * anything else than `inputs.NAME`) is DVM_ACTION_INPUT_INVALID, with every such placeholder in `causes`.
 */
export function renderCommand(
  command: readonly string[],
  inputs: Record<string, unknown>,
  declared: ReadonlySet<string>,
  actionName = 'the action',
): string[] {
  const causes: ErrorCause[] = [];
  const argv = command.map((element, index) =>
    element.replace(PLACEHOLDER, (whole, inner: string) => {
      const name = INPUT_REF.exec(inner)?.[1];
      if (name !== undefined && declared.has(name)) return argText(inputs[name]);
      causes.push({
        code: 'DVM_ACTION_INPUT_INVALID',
        message: name
          ? `${whole} names no input of ${actionName}`
          : `${whole} is not a placeholder dvm knows (only {{ inputs.NAME }})`,
        path: `spec.command[${index}]`,
        fix: declared.size
          ? `Use one of: ${[...declared].join(', ')}.`
          : 'Declare the input under spec.inputs.',
      });
      return whole;
    }),
  );
  if (causes.length) {
    throw new DvmError(
      'DVM_ACTION_INPUT_INVALID',
      causes.length === 1
        ? `${actionName}: ${causes[0].message}`
        : `${actionName}: ${causes.length} unknown placeholders`,
      {
        fix: `Declare the inputs under spec.inputs of ${actionName}, or fix the placeholders in spec.command.`,
        causes,
        details: { origin: 'user' },
      },
    );
  }
  return argv;
}

/**
 * The action of a user-defined `Action` object: its input schema comes from `spec.inputs`, its handler fills the
 * inputs into `spec.command` (see renderCommand) and runs the argv like exec does (no shell, own process group),
 * in the context's workdir and env. The version is 1.0.0; the risk is `spec.risk` when set, else write.
 */
export function actionFromObject(
  object: ResourceObject,
): ActionDefinition<Record<string, unknown>, ProcessResult> {
  const spec = (object.spec ?? {}) as {
    description?: string;
    command?: string[];
    inputs?: ActionInputSpec[];
    risk?: string;
  };
  const name = object.metadata.name;
  const inputs = spec.inputs ?? [];
  const declared = new Set(inputs.map((i) => i.name));
  const command = spec.command;
  return {
    name,
    version: '1.0.0',
    description: spec.description ?? object.metadata.description ?? `User-defined action ${name}.`,
    risk: RISKS.includes(spec.risk as Risk) ? (spec.risk as Risk) : 'write',
    inputSchema: inputSchemaOf(inputs),
    outputSchema: EXEC_OUTPUT_SCHEMA,
    async handler(input, context) {
      if (!command?.length) {
        throw new DvmError('DVM_SCHEMA_INVALID', `Action ${name} has no spec.command to run`, {
          fix: 'Give the Action a `command:` (an argv list with {{ inputs.NAME }} placeholders); running `handlers:` per dependency type is not supported yet.',
          object: `Action/${name}`,
          details: { origin: 'user' },
        });
      }
      const argv = renderCommand(command, input ?? {}, declared, `Action ${name}`);
      // Messages and records name the command with secret-named inputs (db_password, api_key, …) masked.
      const secrets = inputs.filter((i) => SECRET_KEY.test(i.name) && input?.[i.name] !== undefined);
      if (secrets.length === 0) return runProcess(argv, context);
      const masked = { ...input, ...Object.fromEntries(secrets.map((i) => [i.name, '[REDACTED]'])) };
      const shown = renderCommand(command, masked, declared, `Action ${name}`);
      return runProcess(argv, context, { label: `command ${displayArgv(shown)}` });
    },
  };
}
