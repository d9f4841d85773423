import { DvmError } from '../../errors/dvm-error.ts';
import { DURATION_PATTERN } from '../../model/patterns.ts';
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

const ENV_NAME_RE = new RegExp(ENV_NAME);
const DURATION_RE = new RegExp(DURATION_PATTERN);
const EXEC_KEYS = new Set(['command', 'shell', 'workdir', 'env', 'timeout']);
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * True when an exec input certainly matches EXEC_INPUT_SCHEMA (a conservative hand check, so runs of applied
 * Tasks skip loading the schema validator); false means "ask the validator", which also words the errors.
 */
export function execInputIsValid(input: unknown): boolean {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const i = input as Record<string, unknown>;
  for (const key of Object.keys(i)) if (!EXEC_KEYS.has(key)) return false;
  if ((i.command === undefined) === (i.shell === undefined)) return false;
  const { command, shell, workdir, env, timeout } = i;
  if (command !== undefined) {
    const ok =
      (typeof command === 'string' && command.length > 0) ||
      (Array.isArray(command) && command.length > 0 && command.every((a) => typeof a === 'string'));
    if (!ok) return false;
  }
  if (shell !== undefined && (typeof shell !== 'string' || shell.length === 0)) return false;
  if (workdir !== undefined && (typeof workdir !== 'string' || workdir.length === 0)) return false;
  if (timeout !== undefined && (typeof timeout !== 'string' || !DURATION_RE.test(timeout))) return false;
  if (env !== undefined) {
    if (Array.isArray(env)) {
      for (const e of env) {
        if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
        for (const key of Object.keys(e)) if (key !== 'name' && key !== 'value') return false;
        const { name, value } = e as { name?: unknown; value?: unknown };
        if (typeof name !== 'string' || !ENV_NAME_RE.test(name)) return false;
        if (value !== undefined && !isScalar(value)) return false;
      }
    } else if (typeof env === 'object' && env !== null) {
      for (const [name, value] of Object.entries(env))
        if (!ENV_NAME_RE.test(name) || !isScalar(value)) return false;
    } else return false;
  }
  return true;
}

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
