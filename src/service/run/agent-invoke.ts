import { setTimeout as sleep } from 'node:timers/promises';
import type { ActionContext, ActionDefinition } from '../../actions/action.ts';
import type { Agent } from '../../agent/agent.ts';
import { DvmError } from '../../errors/dvm-error.ts';

/** The environment a pipeline task acts in when it names none: dvm's own, where no confirmation gate applies. */
export const PIPELINE_ENVIRONMENT = 'pipeline';

/** How often a task that waits for a second principal's approval looks again. */
const APPROVAL_POLL_MS = 1000;

/** How a pipeline task's action goes through the agent. */
export interface AgentInvokeOptions {
  /** The task's `environment` (target.env); PIPELINE_ENVIRONMENT when it names none. */
  environment?: string;
  /** `dvm run --yes`: the run's invoker confirms the gates that ask the requester itself (never a second principal's). */
  confirm?: boolean;
  /** How often to look for an approval (tests shorten it). */
  pollMs?: number;
  /**
   * The action is a callback's (onSuccess, onFailure, onComplete), which has 15 s and no log of its own: under the
   * two-person rule it fails at once, saying so, instead of waiting for an approval nobody is told about.
   */
  callback?: boolean;
}

type Challenge = { confirmation_token: string; expires_at: string; approval: 'self' | 'other-principal' };

/**
 * Runs a pipeline task's action through the agent's one path, as the local principal in the task's environment,
 * and answers its result. A confirmation gate is met as a person would meet it: one that asks the requester is
 * confirmed only under `dvm run --yes`; under the two-person rule the task waits — its log says for what — until
 * another principal approves the challenge (then sends the request again with it) or the challenge expires.
 */
export async function invokeThroughAgent(
  agent: Agent,
  definition: ActionDefinition,
  input: unknown,
  context: ActionContext,
  requestId: string,
  options: AgentInvokeOptions = {},
): Promise<unknown> {
  const { LOCAL_PRINCIPAL } = await import('../../agent/auth/principal.ts');
  const { errorFromBody } = await import('../../agent/client/agent-client.ts');
  const env = options.environment ?? PIPELINE_ENVIRONMENT;
  const request = {
    request_id: requestId,
    action: definition.name,
    version: definition.version,
    params: input as Record<string, unknown>,
    target: { env },
  };
  const send = (confirmation?: string) =>
    agent.executor.execute(
      confirmation ? { ...request, confirmation_token: confirmation } : request,
      LOCAL_PRINCIPAL,
      { wait: true, context },
    );
  let response = await send();
  if (response.status === 428) {
    const challenge = (response.body.details as { challenge?: Challenge } | undefined)?.challenge;
    if (challenge?.approval === 'other-principal' && options.callback) {
      // Nobody will redeem it: it leaves the approvers' list at once.
      agent.confirmations.withdraw(challenge.confirmation_token);
      throw new DvmError(
        'DVM_CONFIRMATION_REQUIRED',
        `${definition.name} in ${env} needs a second principal's approval, and a callback cannot wait for one (it has 15 s)`,
        {
          fix: `Make it a task of the pipeline (a task waits for the approval, and its log names the confirmation), or give its task an environment without the two-person rule.`,
          details: { action: definition.name, env, approval: 'other-principal' },
        },
      );
    }
    if (challenge?.approval === 'other-principal') {
      try {
        await waitForApproval(
          agent,
          definition.name,
          env,
          challenge,
          context,
          options.pollMs ?? APPROVAL_POLL_MS,
        );
        response = await send(challenge.confirmation_token);
      } finally {
        // However the wait ended (approved and sent, which used the challenge up; cancelled, timed out, expired),
        // nobody will redeem it now: it leaves the approvers' list, and an approval of it is refused as used.
        // A withdraw that fails (the database busy) never replaces the task's own outcome: the challenge expires.
        try {
          agent.confirmations.withdraw(challenge.confirmation_token);
        } catch {}
      }
    } else if (challenge && options.confirm) {
      response = await send(challenge.confirmation_token);
    } else {
      throw new DvmError(
        'DVM_CONFIRMATION_REQUIRED',
        `${definition.name} in ${env} needs confirmation, and this run was not started with --yes`,
        {
          fix: `Run it again with dvm run … --yes, which confirms the gates of its action tasks (the policies must still allow them). A Job that dvm serve fires cannot confirm: give such a task an environment without a gate, or put it under the two-person rule so that a second principal approves each run.`,
          details: { action: definition.name, env },
        },
      );
    }
  }
  if (response.status >= 400) throw errorFromBody(response.status, response.body);
  return response.body.result;
}

// Waits until another principal approved the challenge (resolves), it expired or the task was stopped (throws);
// says in the task's log what it waits for and how to approve it.
async function waitForApproval(
  agent: Agent,
  action: string,
  env: string,
  challenge: Challenge,
  context: ActionContext,
  pollMs: number,
): Promise<void> {
  const { confirmationIdOf } = await import('../../agent/auth/confirmations.ts');
  const id = confirmationIdOf(challenge.confirmation_token);
  context.log.write(
    'stderr',
    `${action} in ${env} waits for a second principal to approve confirmation ${id.slice(0, 12)} until ${challenge.expires_at}: dvm action approve ${id.slice(0, 12)} (through the agent, with another principal's token)\n`,
  );
  for (;;) {
    const state = agent.confirmations.describe(challenge.confirmation_token);
    if (state?.approved_by) {
      context.log.write('stderr', `approved by ${state.approved_by}: running ${action}\n`);
      return;
    }
    // The row's own expiry: a challenge can end before its time (replaced, pruned).
    const expiresAt = state?.expires_at ?? challenge.expires_at;
    if (!state || Date.parse(expiresAt) <= Date.now()) {
      throw new DvmError(
        'DVM_CONFIRMATION_REQUIRED',
        `${action} in ${env} was not approved by a second principal before its confirmation expired at ${expiresAt}`,
        {
          fix: 'Run it again and have another principal approve it in time (dvm action approvals lists what waits).',
          details: { action, env, confirmation_id: id },
        },
      );
    }
    if (context.signal.aborted) throw context.signal.reason;
    // Wakes early when the task is stopped (then the check above throws its reason).
    await sleep(pollMs, undefined, { signal: context.signal }).catch(() => undefined);
  }
}
