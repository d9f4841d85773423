import { createInterface } from 'node:readline/promises';
import type { Agent } from '../../agent/agent.ts';
import type { PendingConfirmation } from '../../agent/auth/confirmations.ts';
import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { CommandContext } from '../command.ts';
import { withLocalAgent } from '../local-agent.ts';

// How the approver reaches the confirmations: the agent's API, or the home's agent database as the local admin.
interface Approver {
  lookup(token: string): Promise<PendingConfirmation>;
  approve(token: string): Promise<PendingConfirmation & { approved_by: string }>;
}

function remoteApprover(remote: AgentClient): Approver {
  const post = async (path: string, token: string) => {
    const response = await remote.request('POST', path, { confirmation_token: token });
    if (response.status !== 200) throw errorFromBody(response.status, response.body);
    return response.body as unknown;
  };
  return {
    lookup: async (token) => (await post('/v1/confirmations/lookup', token)) as PendingConfirmation,
    approve: async (token) =>
      (await post('/v1/confirmations/approve', token)) as PendingConfirmation & { approved_by: string },
  };
}

async function localApprover(agent: Agent): Promise<Approver> {
  const { LOCAL_PRINCIPAL } = await import('../../agent/auth/principal.ts');
  const { approveConfirmation } = await import('../../agent/auth/approvals.ts');
  return {
    lookup: async (token) => agent.confirmations.pending(token),
    approve: (token) => approveConfirmation(agent, token, LOCAL_PRINCIPAL),
  };
}

function targetText(target: Record<string, unknown> | undefined): string {
  return Object.entries(target ?? {})
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(',');
}

function describePending(ctx: CommandContext, token: string, pending: PendingConfirmation): void {
  ctx.io.stderr.write(
    `confirmation ${token.slice(0, 12)}…: ${pending.action}@${pending.version} on ${targetText(pending.target)}\n` +
      `  params:       ${JSON.stringify(pending.params ?? {})}\n` +
      `  requested by: ${pending.requested_by}${pending.request_id ? ` (request ${pending.request_id})` : ''}\n` +
      `  expires:      ${pending.expires_at}\n` +
      (pending.approved_by ? `  approved by:  ${pending.approved_by} already\n` : ''),
  );
}

async function askApproval(ctx: CommandContext, pending: PendingConfirmation): Promise<void> {
  if (ctx.flags.yes) return;
  if (!process.stdin.isTTY || ctx.io.stdout !== process.stdout) {
    throw new DvmError(
      'DVM_CONFIRMATION_REQUIRED',
      `approving ${pending.action} for ${pending.requested_by} needs a yes`,
      { fix: 'Run it on a terminal to answer the question, or pass --yes.' },
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `Approve ${pending.action} on ${targetText(pending.target)} for ${pending.requested_by}? Type "yes": `,
    );
    if (answer.trim().toLowerCase() !== 'yes')
      throw new DvmError('DVM_CANCELLED', 'not approved; the confirmation stays pending');
  } finally {
    rl.close();
  }
}

/**
 * `dvm action approve dvmc_…`: shows what a pending confirmation would run, asks (or --yes), and approves it as a
 * second principal — through the agent with a token, or in-process as the local admin. Every attempt is audited.
 */
export async function approveCommand(
  ctx: CommandContext,
  remote: AgentClient | undefined,
  token: string,
): Promise<number> {
  const run = async (approver: Approver) => {
    const pending = await approver.lookup(token);
    describePending(ctx, token, pending);
    await askApproval(ctx, pending);
    const approved = await approver.approve(token);
    if (ctx.flags.output === 'json') {
      ctx.io.stdout.write(`${JSON.stringify(approved, null, 2)}\n`);
    } else {
      ctx.io.stdout.write(
        `approved ${approved.action}@${approved.version} on ${targetText(approved.target)} for ${approved.requested_by} (as ${approved.approved_by}); they run the same command again with --confirmation-token ${token}\n`,
      );
    }
    return 0;
  };
  if (remote) return run(remoteApprover(remote));
  return withLocalAgent(ctx, async (agent) => run(await localApprover(agent)));
}
