import { parseArgs } from 'node:util';
import { DvmError } from '../errors/dvm-error.ts';
import type { Placement } from '../model/api.ts';
import { didYouMean } from '../model/suggest.ts';

/** Every flag of the CLI; each command says which ones it accepts. */
export const OPTIONS = {
  ecosystem: { type: 'string', short: 'e' },
  domain: { type: 'string', short: 'd' },
  app: { type: 'string', short: 'a' },
  workspace: { type: 'string', short: 'w' },
  output: { type: 'string', short: 'o' },
  all: { type: 'boolean', short: 'A' },
  filename: { type: 'string', short: 'f', multiple: true },
  verbose: { type: 'boolean', short: 'v' },
  recursive: { type: 'boolean', short: 'R' },
  selector: { type: 'string', short: 'l' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  cascade: { type: 'boolean' },
  path: { type: 'string' },
  description: { type: 'string' },
  effective: { type: 'boolean' },
  parallelism: { type: 'string', short: 'p' },
  'no-cache': { type: 'boolean' },
  stage: { type: 'string', multiple: true },
  'include-manual': { type: 'boolean' },
  resume: { type: 'string' },
  task: { type: 'string' },
  follow: { type: 'boolean' },
  'poll-interval': { type: 'string' },
  name: { type: 'string' },
  id: { type: 'string' },
  role: { type: 'string' },
  owner: { type: 'string' },
  ttl: { type: 'string' },
  principal: { type: 'string' },
  action: { type: 'string' },
  route: { type: 'string' },
  target: { type: 'string', multiple: true },
  env: { type: 'string' },
  actor: { type: 'string' },
  decision: { type: 'string' },
  status: { type: 'string' },
  before: { type: 'string' },
  after: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  'request-id': { type: 'string' },
  retries: { type: 'string' },
  'confirmation-token': { type: 'string' },
  param: { type: 'string', multiple: true },
  server: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  listen: { type: 'string' },
  'no-api': { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'insecure-http': { type: 'boolean' },
  timeout: { type: 'string' },
  runtime: { type: 'string' },
  tail: { type: 'string' },
  keep: { type: 'boolean' },
  anchor: { type: 'string', multiple: true },
  'anchor-file': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A flag name of the CLI. */
export type FlagName = keyof typeof OPTIONS;

/** Parsed flag values. */
export type Flags = {
  ecosystem?: string;
  domain?: string;
  app?: string;
  workspace?: string;
  output?: string;
  all?: boolean;
  filename?: string[];
  verbose?: boolean;
  recursive?: boolean;
  selector?: string;
  'dry-run'?: boolean;
  force?: boolean;
  cascade?: boolean;
  path?: string;
  description?: string;
  effective?: boolean;
  parallelism?: string;
  'no-cache'?: boolean;
  stage?: string[];
  'include-manual'?: boolean;
  resume?: string;
  task?: string;
  follow?: boolean;
  'poll-interval'?: string;
  name?: string;
  id?: string;
  role?: string;
  owner?: string;
  ttl?: string;
  principal?: string;
  action?: string;
  route?: string;
  target?: string[];
  env?: string;
  actor?: string;
  decision?: string;
  status?: string;
  before?: string;
  after?: string;
  since?: string;
  until?: string;
  limit?: string;
  'request-id'?: string;
  retries?: string;
  'confirmation-token'?: string;
  param?: string[];
  server?: string;
  yes?: boolean;
  listen?: string;
  'no-api'?: boolean;
  'tls-cert'?: string;
  'tls-key'?: string;
  'insecure-http'?: boolean;
  timeout?: string;
  runtime?: string;
  tail?: string;
  keep?: boolean;
  anchor?: string[];
  'anchor-file'?: string[];
  help?: boolean;
};

/** The verb, its positional arguments and the flags of one command line. */
export interface ParsedCommand {
  verb: string | undefined;
  positionals: string[];
  flags: Flags;
}

/** Splits a command line into verb, positionals and flags (flags may appear anywhere, as in kubectl). */
export function parseCommandLine(argv: string[]): ParsedCommand {
  try {
    // As in kubectl, `-f` of `dvm logs` and `dvm execution logs` is --follow (everywhere else it is --filename).
    const first = argv.find((arg) => !arg.startsWith('-'));
    const follows = first === 'logs' || (first === 'execution' && argv.includes('logs'));
    const args = follows ? argv.map((arg) => (arg === '-f' ? '--follow' : arg)) : argv;
    const { values, positionals, tokens } = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    // A flag that takes one value is never decided silently by the last of two (kubectl would keep the last):
    // where an action acts (--env), on what (--request-id), which audit entries (--actor).
    const given = new Map<string, Set<string | undefined>>();
    for (const t of tokens) {
      if (t.kind !== 'option' || OPTIONS[t.name as FlagName]?.type !== 'string') continue;
      if ((OPTIONS[t.name as FlagName] as { multiple?: boolean }).multiple) continue;
      given.set(t.name, (given.get(t.name) ?? new Set()).add(t.value));
    }
    for (const [name, values] of given) {
      if (values.size > 1)
        throw new DvmError('DVM_USAGE', `--${name} is given twice: ${[...values].join(' and ')}`, {
          fix: name === 'env' ? 'Name one environment.' : `Give --${name} once.`,
        });
    }
    const [verb, ...rest] = positionals;
    return { verb, positionals: rest, flags: values as Flags };
  } catch (error) {
    if (error instanceof DvmError) throw error;
    throw usageOf(error as Error & { code?: string });
  }
}

// Node's parser messages, said as dvm says usage errors: what is wrong with which flag, and the fix.
function usageOf(error: Error & { code?: string }): DvmError {
  // `Option '-y, --yes' …`, `Option '--ttl <value>' …`: the long name.
  const flag = /Option '(?:-\w, )?(-{1,2}[^' ]+)/.exec(error.message)?.[1] ?? '';
  const help = 'Run `dvm help` for the commands and their flags.';
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const unknown = /Unknown option '([^']+)'/.exec(error.message)?.[1] ?? '';
    const names = Object.keys(OPTIONS).map((name) => `--${name}`);
    return new DvmError('DVM_USAGE', `unknown flag ${unknown}${didYouMean(unknown, names)}`, {
      fix: `${help} A value that starts with "-" goes after \`--\`.`,
    });
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/argument is ambiguous/.test(error.message))
      return new DvmError(
        'DVM_USAGE',
        `${flag} is followed by something that looks like a flag, not its value`,
        {
          fix: `Give ${flag} its value; a value that starts with "-" is written ${flag}=-VALUE.`,
        },
      );
    if (/argument missing/.test(error.message))
      return new DvmError('DVM_USAGE', `${flag} needs a value`, { fix: `Write ${flag} VALUE. ${help}` });
    if (/does not take an argument/.test(error.message))
      return new DvmError('DVM_USAGE', `${flag} is a switch: it takes no value`, {
        fix: `Write ${flag} alone.`,
      });
  }
  return new DvmError('DVM_USAGE', error.message.split('\n')[0], { fix: help });
}

/** Rejects flags a command does not use, so a typo never passes silently. */
export function assertFlags(verb: string, flags: Flags, allowed: readonly FlagName[]): void {
  const always: FlagName[] = ['help', 'verbose', 'ecosystem', 'domain', 'app', 'workspace'];
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined || always.includes(name as FlagName) || allowed.includes(name as FlagName))
      continue;
    throw new DvmError('DVM_USAGE', `flag --${name} does not apply to \`dvm ${verb}\``, {
      fix: `Run \`dvm ${verb} --help\`.`,
    });
  }
}

/** The scope flags (-e -d -a -w) as a placement. */
export function scopeFlags(flags: Flags): Placement {
  const placement: Placement = {};
  if (flags.ecosystem) placement.ecosystem = flags.ecosystem;
  if (flags.domain) placement.domain = flags.domain;
  if (flags.app) placement.app = flags.app;
  if (flags.workspace) placement.workspace = flags.workspace;
  return placement;
}
