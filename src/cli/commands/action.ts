import { DvmError } from '../../errors/dvm-error.ts';
import type { Command } from '../command.ts';
import { outputChoice } from '../output/output-choice.ts';
import { remoteAgent } from '../remote-agent.ts';
import { approvalsCommand, approveCommand } from './action-approve.ts';
import { describeAction, listActions } from './action-catalog.ts';
import { runLocal, runRemote } from './action-run.ts';

const USAGE = `Usage:
  dvm action list [-o table|json]
  dvm action describe NAME[@VERSION] [-o json]
  dvm action run NAME[@VERSION] [--param KEY=VALUE …] [--env ENV] [--target KEY=VALUE …] [--dry-run] [--follow]
                                [--yes] [--confirmation-token dvmc_…] [--timeout 30s] [--request-id ID]
                                [--retries N] [-o json]
  dvm action approvals [-o json]
  dvm action approve dvmc_…|ID [--yes] [-o json]

Runs a typed action through the one enforcement path: input validation, policy, confirmation, idempotency,
timeout and output cap, audit. With --server URL (or DVM_SERVER) and DVM_TOKEN (or DVM_TOKEN_FILE, a file
holding it) it asks a remote agent (dvm serve); without them it runs in-process as the local admin principal,
through the same execute().

--param values are read by the action's input schema: numbers, booleans and JSON lists/objects where the
schema says so, strings otherwise. --env is the target environment (default dev); policies decide on it:
write and destructive actions in stage and prod need confirmation, which dvm asks for on a terminal: type the
environment's name to run it (--yes confirms for scripts; the policy must still allow it). Under the two-person rule another principal approves
the challenge first: \`dvm action approvals\` lists what waits (ids, never tokens), and \`dvm action approve
ID\` (or the requester's dvmc_… token) shows what it would run and asks (or POST /v1/confirmations/approve);
then the requester runs the same action, params and target again with --confirmation-token set to its token.
--follow streams progress and log lines; \`dvm execution\` shows executions afterwards.

Every request carries a request_id (--request-id ID, else a fresh one): the agent answers a repeated id with the
first request's answer and never runs it twice, so a script may run the same command again after a failure. Against
a remote agent, a lost connection or a "nothing ran" refusal (stopping, busy) is sent again with the same id, after
a backoff or the agent's Retry-After: --retries N (default 3, 0 for none) bounds how often.`;

/** `dvm action list|describe|run|approvals|approve`: the typed action catalog and its one execution path, local or remote. */
export const command: Command = {
  summary: 'List and describe actions, run one through policy, confirmation and audit, approve one',
  usage: USAGE,
  flags: [
    'param',
    'env',
    'target',
    'dry-run',
    'follow',
    'yes',
    'confirmation-token',
    'timeout',
    'request-id',
    'server',
    'retries',
    'output',
  ],
  maxArgs: (args) => (['run', 'approve', 'describe'].includes(args[0]) ? 2 : 1),
  async run(ctx) {
    const [sub, name] = ctx.positionals;
    // Every subcommand prints a table (or text) or JSON: checked once here for all of them.
    outputChoice(ctx, ['table', 'json'], `dvm action ${sub ?? ''}`.trim());
    const remote = remoteAgent(ctx);
    if (sub === 'list') return listActions(ctx, remote);
    if (sub === 'describe' && name) return describeAction(ctx, remote, name);
    if (sub === 'approve' && name) return approveCommand(ctx, remote, name);
    if (sub === 'approvals') return approvalsCommand(ctx, remote);
    if (sub !== 'run' || !name) {
      throw new DvmError(
        'DVM_USAGE',
        'usage: dvm action list | describe NAME | run NAME [--param k=v …] | approvals | approve dvmc_…|ID',
        {
          fix: 'Run `dvm action list` to see the actions.',
        },
      );
    }
    return remote ? runRemote(ctx, remote, name) : runLocal(ctx, name);
  },
};
