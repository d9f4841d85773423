import type { Agent } from '../../agent/agent.ts';
import type { AwaitingApproval, PendingConfirmation } from '../../agent/auth/confirmations.ts';
import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import { targetText } from '../../agent/execute/target-text.ts';
import type { ExecuteRequest } from '../../agent/execute/types.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { CommandContext } from '../command.ts';
import { withLocalAgent } from '../local-agent.ts';
import { formatAge, renderTable } from '../output/table.ts';
import { ask, canAsk, interruptedAtQuestion, PromptInterrupted } from '../terminal-prompt.ts';
import { terminalText } from '../terminal-text.ts';

// How the approver reaches the confirmations: the agent's API, or the home's agent database as the local admin.
// A confirmation is named by the requester's token (dvmc_…) or by its id as `dvm action approvals` lists it.
interface Approver {
  list(): Promise<AwaitingApproval[]>;
  lookup(ref: string): Promise<PendingConfirmation>;
  approve(ref: string): Promise<PendingConfirmation & { approved_by: string; repeated?: true }>;
}

const isToken = (ref: string) => ref.startsWith('dvmc_');

function remoteApprover(remote: AgentClient): Approver {
  const call = async (method: 'GET' | 'POST', path: string, ref?: string) => {
    const body =
      ref === undefined ? undefined : isToken(ref) ? { confirmation_token: ref } : { confirmation_id: ref };
    const response = await remote.request(method, path, body);
    if (response.status !== 200) throw errorFromBody(response.status, response.body);
    return response.body as unknown;
  };
  return {
    list: async () => ((await call('GET', '/v1/confirmations')) as { items: AwaitingApproval[] }).items,
    lookup: async (ref) => (await call('POST', '/v1/confirmations/lookup', ref)) as PendingConfirmation,
    approve: async (ref) =>
      (await call('POST', '/v1/confirmations/approve', ref)) as PendingConfirmation & { approved_by: string },
  };
}

async function localApprover(agent: Agent): Promise<Approver> {
  const { LOCAL_PRINCIPAL } = await import('../../agent/auth/principal.ts');
  const { approveConfirmation } = await import('../../agent/auth/approvals.ts');
  return {
    list: async () => agent.confirmations.awaitingApproval(),
    lookup: async (ref) => agent.confirmations.pending(ref),
    approve: (ref) => approveConfirmation(agent, ref, LOCAL_PRINCIPAL),
  };
}

// Everything below prints what a requester wrote (target labels, params, names) through terminalText: on one line,
// escape sequences and newlines shown, never obeyed, so a requester cannot forge what the approver reads.
const safe = terminalText;

// A target as audit entries show it (`env=prod,cluster=eu`); none for a confirmation issued before it was kept.
const targetOf = (target: Record<string, unknown> | undefined) =>
  safe(targetText((target ?? {}) as ExecuteRequest['target']));

// An action as `name@version`.
const actionOf = (item: { action?: string; version?: string }) =>
  safe(`${item.action ?? '?'}@${item.version ?? '?'}`);

// Who asked, with the owner behind the token when it is not the token's own name: `alice-laptop (owner alice)`.
function requester(pending: PendingConfirmation): string {
  const owner = pending.requester_owner;
  return safe(
    owner && owner !== pending.requested_by
      ? `${pending.requested_by} (owner ${owner})`
      : pending.requested_by,
  );
}

function describePending(ctx: CommandContext, ref: string, pending: PendingConfirmation): void {
  ctx.io.stderr.write(
    `confirmation ${safe(ref.slice(0, 12))}…: ${actionOf(pending)} on ${targetOf(pending.target)}\n` +
      `  params:       ${safe(JSON.stringify(pending.params ?? {}))}\n` +
      `  requested by: ${requester(pending)}${pending.request_id ? ` (request ${safe(pending.request_id)})` : ''}\n` +
      `  expires:      ${safe(pending.expires_at)}\n` +
      (pending.approved_by ? `  approved by:  ${safe(pending.approved_by)} already\n` : ''),
  );
}

// Asks the approver on the terminal (or --yes); Ctrl-C rejects with PromptInterrupted.
async function askApproval(ctx: CommandContext, pending: PendingConfirmation): Promise<void> {
  if (ctx.flags.yes) return;
  if (!canAsk(ctx)) {
    throw new DvmError(
      'DVM_CONFIRMATION_REQUIRED',
      `approving ${safe(pending.action)} for ${safe(pending.requested_by)} needs a yes`,
      {
        fix: 'Run it on a terminal to answer the question (stdin and stderr on the terminal: the question is asked on stderr), or pass --yes.',
      },
    );
  }
  const answer = await ask(
    `Approve ${safe(pending.action)} on ${targetOf(pending.target)} for ${safe(pending.requested_by)}? Type "yes": `,
  );
  // The end of input (Ctrl-D) is no answer: refused as any answer but yes is.
  if (answer === undefined)
    throw new DvmError(
      'DVM_CANCELLED',
      'not approved (no answer: end of input); the confirmation stays pending',
    );
  if (answer.trim().toLowerCase() !== 'yes')
    throw new DvmError('DVM_CANCELLED', 'not approved; the confirmation stays pending');
}

// Through the agent with a token, or in-process as the local admin.
function withApprover(
  ctx: CommandContext,
  remote: AgentClient | undefined,
  use: (approver: Approver) => Promise<number>,
): Promise<number> {
  if (remote) return use(remoteApprover(remote));
  return withLocalAgent(ctx, async (agent) => use(await localApprover(agent)));
}

/**
 * `dvm action approve dvmc_…|ID`: shows what a pending confirmation would run, asks (or --yes), and approves it as
 * a second principal — through the agent with a token, or in-process as the local admin. Every attempt is audited.
 */
export function approveCommand(
  ctx: CommandContext,
  remote: AgentClient | undefined,
  ref: string,
): Promise<number> {
  return withApprover(ctx, remote, async (approver) => {
    const pending = await approver.lookup(ref);
    describePending(ctx, ref, pending);
    try {
      await askApproval(ctx, pending);
    } catch (error) {
      if (!(error instanceof PromptInterrupted)) throw error;
      return interruptedAtQuestion(ctx, 'not approved (Ctrl-C); the confirmation stays pending');
    }
    const approved = await approver.approve(ref);
    if (ctx.flags.output === 'json') {
      ctx.io.stdout.write(`${JSON.stringify(approved, null, 2)}\n`);
    } else {
      ctx.io.stdout.write(
        approved.repeated
          ? `already approved (nothing changed): ${actionOf(approved)} on ${targetOf(approved.target)} for ${safe(approved.requested_by)} (by ${safe(approved.approved_by)})\n`
          : `approved ${actionOf(approved)} on ${targetOf(approved.target)} for ${safe(approved.requested_by)} (as ${safe(approved.approved_by)}); a pipeline task waiting for it runs now, a request from the CLI or the API is sent again with --confirmation-token ${isToken(ref) ? safe(ref) : 'and its token'}\n`,
      );
    }
    return 0;
  });
}

/** `dvm action approvals`: the confirmations waiting for a second principal, with the ids `approve` takes. */
export function approvalsCommand(ctx: CommandContext, remote: AgentClient | undefined): Promise<number> {
  return withApprover(ctx, remote, async (approver) => {
    const items = await approver.list();
    if (ctx.flags.output === 'json') {
      ctx.io.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
      return 0;
    }
    if (items.length === 0) {
      ctx.io.stderr.write('No confirmations are waiting for approval.\n');
      return 0;
    }
    const now = new Date();
    ctx.io.stdout.write(
      renderTable(
        ['ID', 'ACTION', 'TARGET', 'PARAMS', 'REQUESTED BY', 'REQUEST', 'EXPIRES IN'],
        items.map((item) => [
          item.id.slice(0, 12),
          actionOf(item),
          targetOf(item.target),
          safe(JSON.stringify(item.params ?? {})),
          requester(item),
          safe(item.request_id ?? ''),
          formatAge(now.toISOString(), new Date(item.expires_at)),
        ]),
      ),
    );
    return 0;
  });
}
