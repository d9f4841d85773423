import { DvmError } from '../../errors/dvm-error.ts';
import type { FlagName } from '../args.ts';
import type { Command } from '../command.ts';
import { outputChoice } from '../output/output-choice.ts';
import { remoteAgent } from '../remote-agent.ts';
import { cancelExecution } from './execution-cancel.ts';
import { EXECUTION_LIST_FLAGS, EXECUTION_LIST_USAGE, listExecutions } from './execution-list.ts';
import { executionLogs, showExecution } from './execution-show.ts';

const USAGE = `Usage:
  ${EXECUTION_LIST_USAGE}
  dvm execution get ID [-o json]
  dvm execution logs ID [-f] [-o json]
  dvm execution cancel ID [-o json]

The executions of typed actions (\`dvm action run\`, POST /v1/actions/execute, pipeline tasks). With --server
URL (or DVM_SERVER) and DVM_TOKEN it asks a remote agent (dvm serve), which shows a token its own executions
(admins: all); without them it reads the home's agent database as the local admin.

list    executions newest first, filtered (combined with AND); --principal is for admins (token/ID or local).
get     the status, target, times and result (or error) of one execution.
logs    its events so far: log lines on stdout (stderr lines on stderr), progress on stderr; -f (--follow) keeps
        streaming until the execution ends (resuming a stream that breaks off), then says how it ended.
        -o json prints every event as one JSON line.
cancel  stops a running execution: it ends failed with DVM_CANCELLED, recorded and audited. Only the agent
        that runs it can (--server for one dvm serve runs; Ctrl-C the dvm action run that runs one here).`;

// The flags only `list` takes (filters); --server, --retries and -o go with every subcommand.
const LIST_ONLY = EXECUTION_LIST_FLAGS.filter((flag) => !['server', 'retries', 'output'].includes(flag));

/** `dvm execution list|get|logs|cancel`: the action executions of a remote agent or of the home's agent database. */
export const command: Command = {
  summary: 'List action executions, show one, print and follow its events, or cancel one',
  usage: USAGE,
  flags: [...new Set<FlagName>([...EXECUTION_LIST_FLAGS, 'follow'])],
  maxArgs: (args) => (args[0] === 'list' ? 1 : 2),
  async run(ctx) {
    const [sub, id] = ctx.positionals;
    const misplaced = (flags: readonly FlagName[]) => flags.find((flag) => ctx.flags[flag] !== undefined);
    const wrong =
      sub === 'list'
        ? misplaced(['follow'])
        : misplaced(sub === 'logs' ? LIST_ONLY : [...LIST_ONLY, 'follow']);
    if (wrong) {
      throw new DvmError('DVM_USAGE', `--${wrong} is not a flag of \`dvm execution ${sub}\``, {
        fix: 'Run `dvm execution --help` for the flags of each subcommand.',
      });
    }
    outputChoice(ctx, ['table', 'json'], `dvm execution ${sub ?? ''}`.trim());
    const remote = remoteAgent(ctx);
    if (sub === 'list') return listExecutions(ctx, remote);
    if (!id || !['get', 'logs', 'cancel'].includes(sub ?? '')) {
      throw new DvmError('DVM_USAGE', 'usage: dvm execution list | get|logs|cancel EXECUTION_ID', {
        fix: 'Pass the execution_id an action run answered with, e.g. dvm execution get xmx362zzke7a3990af167 (dvm execution list shows them).',
      });
    }
    if (sub === 'get') return showExecution(ctx, remote, id);
    if (sub === 'logs') return executionLogs(ctx, remote, id);
    return cancelExecution(ctx, remote, id);
  },
};
