import { DvmError } from '../../errors/dvm-error.ts';
import { DURATION_PATTERN } from '../../model/kinds/schema-helpers.ts';
import type { ActionDefinition } from '../action.ts';
import { displayArgv, type ProcessResult, runProcess } from '../process.ts';
import { splitCommand } from './argv.ts';
import { parseDuration } from './duration.ts';

/** One `{name, value}` environment entry (the Task `env:` form). */
export type EnvEntry = { name: string; value?: string | number | boolean };

/** Input of the exec action: exactly one of command and shell. */
export type ExecInput = {
  /** argv list (preferred), or a string split like a shell would without running one. */
  command?: string | string[];
  /** Script run with /bin/sh -c. */
  shell?: string;
  /** Working directory, relative to the context's. */
  workdir?: string;
  env?: Record<string, string | number | boolean> | EnvEntry[];
  /** Duration like 500ms, 30s, 5m, 1h30m. */
  timeout?: string;
};

/** Output of the exec action. */
export type ExecOutput = ProcessResult;

/** The program that runs `shell:` scripts. */
export const SHELL = '/bin/sh';

const ENV_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';
const ENV_VALUE = { type: ['string', 'number', 'boolean'] };

/** JSON Schema of exec's input. */
export const EXEC_INPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    command: {
      type: ['string', 'array'],
      minLength: 1,
      minItems: 1,
      items: { type: 'string' },
      description:
        'The command: an argv list (preferred), or a string split on spaces with shell quoting, no shell.',
    },
    shell: {
      type: 'string',
      minLength: 1,
      description: 'A script run with /bin/sh -c (instead of command).',
    },
    workdir: {
      type: 'string',
      minLength: 1,
      description: 'Working directory, relative to the task directory.',
    },
    env: {
      type: ['object', 'array'],
      propertyNames: { pattern: ENV_NAME },
      additionalProperties: ENV_VALUE,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { type: 'string', pattern: ENV_NAME }, value: ENV_VALUE },
      },
      description: 'Environment variables: a map, or a list of {name, value}.',
    },
    timeout: {
      type: 'string',
      pattern: DURATION_PATTERN,
      description: 'Time the command may take before its process group is stopped.',
    },
  },
  oneOf: [{ required: ['command'] }, { required: ['shell'] }],
} as const;

/** JSON Schema of exec's output. */
export const EXEC_OUTPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['exitCode', 'durationMs', 'truncated'],
  properties: {
    exitCode: { type: 'integer', description: 'Exit status (0: failures are errors).' },
    durationMs: { type: 'integer', description: 'Wall time from spawn to exit.' },
    truncated: { type: 'boolean', description: 'The log dropped output past its cap.' },
  },
} as const;

function invalid(message: string, fix: string): DvmError {
  return new DvmError('DVM_ACTION_INPUT_INVALID', message, { fix, details: { origin: 'user' } });
}

/** The variables of an `env` input (map or list), as strings. */
export function envOf(env: ExecInput['env']): Record<string, string> | undefined {
  if (env === undefined) return undefined;
  const out: Record<string, string> = {};
  if (Array.isArray(env)) for (const e of env) out[e.name] = String(e.value ?? '');
  else for (const [name, value] of Object.entries(env)) out[name] = String(value);
  return out;
}

/** The argv exec runs for an input: the list as given, the string split (no shell), or /bin/sh -c SCRIPT. */
export function argvOf(input: ExecInput): string[] {
  const hasCommand = input.command !== undefined;
  const hasShell = input.shell !== undefined;
  if (hasCommand === hasShell) {
    throw invalid(
      hasCommand ? 'exec has both command and shell' : 'exec needs a command or a shell script',
      'Give `command` (run without a shell) or `shell` (a /bin/sh script), exactly one of them.',
    );
  }
  if (hasShell) return [SHELL, '-c', input.shell as string];
  return typeof input.command === 'string' ? splitCommand(input.command) : [...(input.command as string[])];
}

/** The built-in `exec` action: runs a program (or a /bin/sh script) in its own process group. */
export const execAction: ActionDefinition<ExecInput, ExecOutput> = {
  name: 'exec',
  version: '1.0.0',
  description: 'Runs a command (argv, no shell) or a /bin/sh script, streaming its output into the task log.',
  risk: 'write',
  inputSchema: EXEC_INPUT_SCHEMA,
  outputSchema: EXEC_OUTPUT_SCHEMA,
  async handler(input, context) {
    const argv = argvOf(input);
    let timeoutMs: number | undefined;
    if (input.timeout !== undefined) {
      timeoutMs = parseDuration(input.timeout);
      if (timeoutMs === 0) throw invalid('timeout is 0', 'Give a timeout above zero, like 30s, or none.');
    }
    return runProcess(argv, context, {
      workdir: input.workdir,
      env: envOf(input.env),
      timeoutMs,
      label: input.shell !== undefined ? `shell script ${displayArgv([input.shell])}` : undefined,
    });
  },
};
