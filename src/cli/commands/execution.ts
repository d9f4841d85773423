import { AgentClient } from '../../agent/client/agent-client.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Command } from '../command.ts';
import { executionLogs, showExecution } from './execution-show.ts';

const USAGE = `Usage:
  dvm execution get ID [-o json]
  dvm execution logs ID [-f] [-o json]

The executions of typed actions (\`dvm action run\`, POST /v1/actions/execute, pipeline tasks). With --server
URL (or DVM_SERVER) and DVM_TOKEN it asks a remote agent (dvm serve), which shows a token its own executions
(admins: all); without them it reads the home's agent database as the local admin.

get   the status, target, times and result (or error) of one execution.
logs  its events so far: log lines on stdout (stderr lines on stderr), progress on stderr; -f (--follow) keeps
      streaming until the execution ends (resuming a stream that breaks off), then says how it ended.
      -o json prints every event as one JSON line.`;

const SUBCOMMANDS = ['get', 'logs'];

/** `dvm execution get|logs`: what an action execution did, from a remote agent or the home's agent database. */
export const command: Command = {
  summary: 'Show an action execution, or print and follow its events',
  usage: USAGE,
  flags: ['follow', 'server', 'output'],
  maxArgs: 2,
  async run(ctx) {
    const [sub, id] = ctx.positionals;
    if (!sub || !SUBCOMMANDS.includes(sub) || !id) {
      throw new DvmError('DVM_USAGE', 'usage: dvm execution get|logs EXECUTION_ID', {
        fix: 'Pass the execution_id an action run answered with, e.g. dvm execution get xmx362zzke7a3990af167.',
      });
    }
    if (ctx.flags.follow && sub !== 'logs') {
      throw new DvmError('DVM_USAGE', `--follow is a flag of \`dvm execution logs\`, not of ${sub}`, {
        fix: `Run dvm execution logs ${id} -f.`,
      });
    }
    const server = ctx.flags.server ?? ctx.io.env.DVM_SERVER;
    const remote = server ? new AgentClient(server, ctx.io.env.DVM_TOKEN) : undefined;
    return sub === 'get' ? showExecution(ctx, remote, id) : executionLogs(ctx, remote, id);
  },
};
