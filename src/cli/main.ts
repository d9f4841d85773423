import { DvmError, isDvmError } from '../errors/dvm-error.ts';
import { formatError } from '../errors/format.ts';
import { systemError } from '../errors/system-errors.ts';
import type { Placement } from '../model/api.ts';
import { mergeScope, readContext } from '../service/context.ts';
import { dvmHome } from '../service/home.ts';
import { openPlatform, type Platform } from '../service/platform.ts';
import { assertFlags, parseCommandLine, scopeFlags } from './args.ts';
import type { Command, CommandContext } from './command.ts';
import { type CommandIo, processIo } from './io.ts';
import { outputFormat } from './output/objects.ts';
import { subcommandHelp, usageForms } from './subcommand-help.ts';
import { terminalLines } from './terminal-text.ts';

// Commands load lazily, so `dvm get` never pays for the YAML parser or the schema validator.
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  get: () => import('./commands/get.ts'),
  describe: () => import('./commands/describe.ts'),
  apply: () => import('./commands/apply.ts'),
  diff: () => import('./commands/diff.ts'),
  create: () => import('./commands/create.ts'),
  delete: () => import('./commands/delete.ts'),
  use: () => import('./commands/use.ts'),
  tree: () => import('./commands/tree.ts'),
  explain: () => import('./commands/explain.ts'),
  'api-resources': () => import('./commands/api-resources.ts'),
  schema: () => import('./commands/schema.ts'),
  completion: () => import('./commands/completion.ts'),
  version: () => import('./commands/version.ts'),
  run: () => import('./commands/run.ts'),
  status: () => import('./commands/status.ts'),
  logs: () => import('./commands/logs.ts'),
  cancel: () => import('./commands/cancel.ts'),
  serve: () => import('./commands/serve.ts'),
  token: () => import('./commands/token.ts'),
  action: () => import('./commands/action.ts'),
  execution: () => import('./commands/execution.ts'),
  policy: () => import('./commands/policy.ts'),
  audit: () => import('./commands/audit.ts'),
  seed: () => import('./commands/seed.ts'),
  start: () => import('./commands/start.ts'),
  stop: () => import('./commands/stop.ts'),
  restart: () => import('./commands/restart.ts'),
  deploy: () => import('./commands/deploy.ts'),
  undeploy: () => import('./commands/undeploy.ts'),
  down: () => import('./commands/down.ts'),
};

/** Names of every verb, for help and completion. */
export const VERBS = Object.keys(COMMANDS);

async function printHelp(io: CommandIo): Promise<void> {
  const lines = [
    'dvm: one declarative model for apps, dependencies, test data and pipelines.',
    '',
    'Commands:',
  ];
  for (const verb of VERBS) {
    const { command } = await COMMANDS[verb]();
    lines.push(`  ${verb.padEnd(14)}${command.summary}`);
  }
  lines.push(
    '',
    'Global flags: -e ECOSYSTEM  -d DOMAIN  -a APP  -w WORKSPACE  -o table|wide|yaml|json|name  -A (all scopes)  -f FILE  -v',
    "Run `dvm VERB --help` for a command's usage.",
  );
  io.stdout.write(`${lines.join('\n')}\n`);
}

// An argument the verb does not take (`dvm version extra`, `dvm cancel run ID ID2`) is refused, not ignored.
function assertArgCount(verb: string, positionals: readonly string[], command: Command): void {
  const { maxArgs } = command;
  if (maxArgs === undefined) return;
  const max = typeof maxArgs === 'number' ? maxArgs : maxArgs(positionals);
  if (positionals.length <= max) return;
  const extra = positionals.slice(max);
  // The usage line of the subcommand given (`dvm action run NAME …`, `dvm status task NAME`), else the first.
  const forms = usageForms(verb, command.usage)?.forms ?? [];
  const form = forms.find((f) => f.subcommands.includes(positionals[0])) ?? forms[0];
  const synopsis = form?.lines[0].trim() ?? `dvm ${verb}`;
  // `dvm action run docker.logs container=web`: a param written without its flag.
  const pair = extra.find((arg) => /^[A-Za-z_][\w.-]*=/.test(arg));
  throw new DvmError(
    'DVM_USAGE',
    `dvm ${verb} does not take ${extra.length === 1 ? 'the argument' : 'the arguments'} ${extra.map((a) => JSON.stringify(a)).join(' ')}`,
    {
      fix:
        pair && command.flags.includes('param')
          ? `Pass params with --param: --param ${pair}.`
          : `Usage: ${synopsis} (quote a value that contains spaces; \`dvm ${verb} --help\` shows every form).`,
      details: { extra },
    },
  );
}

/** Runs one dvm command line and returns its exit status; errors are printed with their code and fix. */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
  let platform: Platform | undefined;
  let errorExit: number | undefined;
  try {
    // `dvm --version` (git, docker and npm take it) is `dvm version`.
    const given = parseCommandLine(argv[0] === '--version' ? ['version', ...argv.slice(1)] : argv);
    // `dvm help VERB` is `dvm VERB --help`.
    const [topic] = given.positionals;
    const parsed =
      given.verb === 'help' && topic !== undefined
        ? {
            ...given,
            verb: topic,
            positionals: given.positionals.slice(1),
            flags: { ...given.flags, help: true },
          }
        : given;
    if (!parsed.verb || parsed.verb === 'help') {
      await printHelp(io);
      return parsed.verb || parsed.flags.help ? 0 : 2;
    }
    const load = COMMANDS[parsed.verb];
    if (!load) {
      const { didYouMean } = await import('../model/suggest.ts');
      throw new DvmError('DVM_USAGE', `unknown command "${parsed.verb}"${didYouMean(parsed.verb, VERBS)}`, {
        fix: 'Run `dvm help` to list the commands.',
      });
    }
    const { command } = await load();
    errorExit = command.errorExit;
    if (parsed.flags.help) {
      // `dvm token create --help` is the subcommand's usage; an unknown subcommand gets the verb's.
      const help = subcommandHelp(parsed.verb, command.usage, parsed.positionals[0]) ?? command.usage;
      io.stdout.write(`${help}\n`);
      return 0;
    }
    assertFlags(parsed.verb, parsed.flags, command.flags);
    assertArgCount(parsed.verb, parsed.positionals, command);
    // -o with a format no command knows (a typo) is refused everywhere, not only by `get`.
    if (parsed.flags.output !== undefined) outputFormat(parsed.flags.output);
    const home = dvmHome(io.env);
    let scope: Placement | undefined;
    const ctx: CommandContext = {
      verb: parsed.verb,
      positionals: parsed.positionals,
      flags: parsed.flags,
      io,
      home,
      platform: async () => {
        platform ??= await openPlatform(home);
        return platform;
      },
      scope: async () => {
        scope ??= mergeScope(await readContext((await ctx.platform()).store), scopeFlags(parsed.flags));
        return scope;
      },
    };
    return await command.run(ctx);
  } catch (error) {
    const dvmError = isDvmError(error)
      ? error
      : (systemError(error) ??
        new DvmError('DVM_INTERNAL', (error as Error)?.message ?? String(error), {
          fix: 'This is a bug in dvm; run again with -v for the stack trace and report it.',
        }));
    // An agent's error text (a container name, a label) is shown, not obeyed: no escape sequence reaches the terminal.
    io.stderr.write(terminalLines(formatError(dvmError)));
    if (!isDvmError(error) && argv.includes('-v')) io.stderr.write(`${(error as Error)?.stack}\n`);
    return errorExit ?? dvmError.exitCode;
  } finally {
    await platform?.store.close();
  }
}
