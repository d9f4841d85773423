import { createRequire } from 'node:module';
import type { Ajv as AjvType, ErrorObject, ValidateFunction } from 'ajv';
import { DvmError, type ErrorCause } from '../errors/dvm-error.ts';
import { DURATION_PATTERN } from '../model/patterns.ts';
import {
  DURATION_WORDING,
  describeTypeName,
  describeValue,
  dropBranchErrors,
} from '../model/schema-wording.ts';
import { didYouMean } from '../model/suggest.ts';
import type { ActionDefinition } from './action.ts';
import { dockerLogsAction } from './builtin/docker/logs.ts';
import { dockerRestartAction } from './builtin/docker/restart.ts';
import { SINCE_FORMS, SINCE_PATTERN } from './builtin/docker/since.ts';
import { EXEC_INPUT_SCHEMA, execAction, execInputIsValid } from './builtin/exec.ts';
import { GIT_NAME_PATTERN, gitPullAction, gitPushAction } from './builtin/git.ts';
import { jvmStatusAction } from './builtin/jvm/status.ts';
import { jvmThreadDumpAction } from './builtin/jvm/thread-dump.ts';
import { k8sEventsAction } from './builtin/k8s/events.ts';
import { k8sPodLogsAction } from './builtin/k8s/pod-logs.ts';
import { k8sScaleAction } from './builtin/k8s/scale.ts';
import { notifyAlertAction, notifySlackAction, notifyTeamAction } from './builtin/notify.ts';
import { systemInfoAction } from './builtin/system.ts';

// Every built-in, in registration order.
const BUILTINS = [
  execAction,
  gitPushAction,
  gitPullAction,
  notifySlackAction,
  notifyAlertAction,
  notifyTeamAction,
  systemInfoAction,
  dockerLogsAction,
  dockerRestartAction,
  jvmStatusAction,
  jvmThreadDumpAction,
  k8sPodLogsAction,
  k8sEventsAction,
  k8sScaleAction,
] as unknown as ActionDefinition[];

/** Names of the built-in actions this registry implements, sorted. */
export const BUILTIN_ACTIONS: readonly string[] = BUILTINS.map((d) => d.name).sort();

// One validator for all action schemas, loaded on first use (runs of applied Tasks never need it); each schema
// object is compiled once.
let ajv: AjvType | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

function validatorOf(schema: Record<string, unknown>): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    if (!ajv) {
      const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
      ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
    }
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

// What the patterns of the built-in schemas mean, for messages.
const PATTERN_NAMES: Record<string, string> = {
  [DURATION_PATTERN]: DURATION_WORDING,
  [GIT_NAME_PATTERN]: 'a name without spaces that does not start with "-"',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'a name of letters, digits and "_" (not starting with a digit)',
  [SINCE_PATTERN]: SINCE_FORMS,
};

function versionParts(version: string): number[] {
  return version.split(/[.+-]/, 3).map((p) => Number.parseInt(p, 10) || 0);
}

/** Orders semantic versions (major, minor, patch; pre-release tags are not ordered), newest last. */
export function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The registry of versioned actions that tasks, callbacks, the agent API, the planner and MCP all use. */
export class ActionRegistry {
  // By name, versions oldest first.
  readonly #actions = new Map<string, ActionDefinition[]>();

  /** Adds an action; the same name and version twice is DVM_DUPLICATE. */
  register<I, O>(definition: ActionDefinition<I, O>): this {
    const def = definition as unknown as ActionDefinition;
    const versions = this.#actions.get(def.name) ?? [];
    if (versions.some((v) => v.version === def.version)) {
      throw new DvmError('DVM_DUPLICATE', `action ${def.name}@${def.version} is registered twice`, {
        fix: 'Give the new definition another version, or another name.',
        details: { origin: 'system' },
      });
    }
    versions.push(def);
    versions.sort((a, b) => compareVersions(a.version, b.version));
    this.#actions.set(def.name, versions);
    return this;
  }

  /** True when an action of this name (any version) is registered. */
  has(name: string): boolean {
    return this.#actions.has(name);
  }

  /** The action of this name: the given version, or the latest. Unknown is DVM_ACTION_UNKNOWN. */
  get(name: string, version?: string): ActionDefinition {
    const versions = this.#actions.get(name);
    if (!versions) {
      throw new DvmError(
        'DVM_ACTION_UNKNOWN',
        `no action is named "${name}"${didYouMean(name, this.#actions.keys())}`,
        {
          fix: `Use one of: ${this.names().join(', ')} (or an Action object of that name).`,
          details: { origin: 'user', action: name },
        },
      );
    }
    if (version === undefined) return versions[versions.length - 1];
    const found = versions.find((v) => v.version === version);
    if (!found) {
      const known = versions.map((v) => v.version);
      throw new DvmError(
        'DVM_ACTION_UNKNOWN',
        `action "${name}" has no version ${version}${didYouMean(version, known)}`,
        {
          fix: `Use one of its versions: ${known.join(', ')}, or leave the version out for the latest.`,
          details: { origin: 'user', action: name, version },
        },
      );
    }
    return found;
  }

  /** Every registered definition (all versions), sorted by name, then version. */
  list(): ActionDefinition[] {
    return this.names().flatMap((name) => this.#actions.get(name) ?? []);
  }

  /** Names of the registered actions, sorted. */
  names(): string[] {
    return [...this.#actions.keys()].sort();
  }

  /**
   * Validates an input against the action's input schema and returns it, with schema defaults filled in (in place).
   * A mismatch is DVM_ACTION_INPUT_INVALID with every violation (path and message) in `causes`.
   */
  validateInput<I>(definition: ActionDefinition<I, unknown>, input: unknown): I {
    const data = input ?? {};
    // exec has no schema defaults, so an input the hand check accepts needs nothing from the validator.
    if (definition.inputSchema === EXEC_INPUT_SCHEMA && execInputIsValid(data)) return data as I;
    const validate = validatorOf(definition.inputSchema);
    if (validate(data)) return data as I;
    const causes = dropBranchErrors(validate.errors ?? []).map((e) => causeOf(e, definition));
    const known = Object.keys((definition.inputSchema.properties as object | undefined) ?? {});
    const summary =
      causes.length === 1
        ? // `path message`, never `path: message`, which reads as a key and its value to redaction (password: …).
          `${causes[0].path ? `${causes[0].path} ` : ''}${causes[0].message}`
        : `${causes.length} problems`;
    throw new DvmError(
      'DVM_ACTION_INPUT_INVALID',
      `input of action ${definition.name} is not valid: ${summary}`,
      {
        fix: known.length
          ? `Fix the inputs listed; ${definition.name} accepts: ${known.join(', ')}.`
          : `Fix the inputs listed; ${definition.name} takes no inputs.`,
        causes,
        details: { origin: 'user', action: definition.name, version: definition.version },
      },
    );
  }
}

/** A registry with every built-in action. */
export function createBuiltinRegistry(): ActionRegistry {
  const registry = new ActionRegistry();
  for (const def of BUILTINS) registry.register(def);
  return registry;
}

// `/env/0/name` → `env[0].name`.
function pathOf(pointer: string, field?: string): string {
  const segments = pointer ? pointer.slice(1).split('/') : [];
  if (field !== undefined) segments.push(field);
  let path = '';
  for (const raw of segments) {
    const s = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^(0|[1-9][0-9]*)$/.test(s) ? `[${s}]` : path ? `.${s}` : s;
  }
  return path;
}

// Branches that each only require one field, like exec's `oneOf: [{required: [command]}, {required: [shell]}]`.
function requiredAlternatives(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const fields = branches.map((b) => {
    const keys = Object.keys(b ?? {});
    const required = (b as { required?: unknown[] })?.required;
    return keys.length === 1 && Array.isArray(required) && required.length === 1
      ? String(required[0])
      : undefined;
  });
  return fields.every((f) => f !== undefined) ? (fields as string[]) : undefined;
}

function causeOf(error: ErrorObject, definition: ActionDefinition<unknown, unknown>): ErrorCause {
  const params = error.params as Record<string, unknown>;
  const cause = (path: string, message: string, fix?: string): ErrorCause => ({
    code: 'DVM_ACTION_INPUT_INVALID',
    message,
    ...(path ? { path } : {}),
    ...(fix ? { fix } : {}),
  });
  const path = pathOf(error.instancePath);
  switch (error.keyword) {
    case 'required':
      return cause(pathOf(error.instancePath, String(params.missingProperty)), 'is required');
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys(
        (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      return cause(
        pathOf(error.instancePath, field),
        `is not an input of ${definition.name}${didYouMean(field, known)}`,
        known.length ? `Remove it, or use one of: ${known.join(', ')}.` : 'Remove it.',
      );
    }
    case 'type': {
      const types = ([] as string[]).concat(params.type as string | string[]);
      return cause(
        path,
        `must be ${types.map(describeTypeName).join(' or ')}, not ${describeValue(error.data)}`,
      );
    }
    case 'enum':
      return cause(
        path,
        `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      );
    case 'pattern':
      return cause(
        path,
        `${JSON.stringify(error.data)} is not ${PATTERN_NAMES[String(params.pattern)] ?? `a match of ${String(params.pattern)}`}`,
      );
    case 'oneOf':
    case 'anyOf': {
      const fields = requiredAlternatives(error.schema);
      if (fields) {
        const given = fields.filter(
          (f) => (error.data as Record<string, unknown> | undefined)?.[f] !== undefined,
        );
        return cause(
          path,
          given.length > 1
            ? `gives ${given.join(' and ')}: use exactly one of ${fields.join(', ')}`
            : `needs one of ${fields.join(', ')}`,
        );
      }
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      return cause(path, `does not match any allowed form${description ? ` (${description})` : ''}`);
    }
    default:
      return cause(path, error.message ?? 'is not valid');
  }
}
