import { randomUUID } from 'node:crypto';
import type { Agent } from '../agent/agent.ts';
import type { ExecuteRequest, ExecuteResponse } from '../agent/execute/types.ts';
import type { CommandContext } from './command.ts';
import { targetFromFlags } from './target-flags.ts';
import { interruptedAtQuestion, PromptInterrupted } from './terminal-prompt.ts';
import { terminalLines } from './terminal-text.ts';

/** What runLocalAction hands back: the action's result, or the exit status of a question interrupted (Ctrl-C). */
export type LocalActionOutcome = { result: Record<string, unknown> } | { exit: number };

/** Options of runLocalAction. */
export interface LocalActionOptions {
  /** Told each progress message of the execution as it comes (a command prints them, as it did before). */
  onProgress?: (message: string) => void;
  /** Only decide it (a dry run, audited as one): the result is the dry run's answer (`run_decision`, …). */
  dryRun?: boolean;
}

/**
 * Runs a registered action in-process through the agent's one path (validate → policy → confirmation →
 * idempotency → run → audit), as `dvm action run NAME` without a server does: the local admin principal, the
 * command's environment (localEnvironment), a new request_id, the action's longest timeout, and its confirmation
 * gate met the same way.
 * A denial, a refused confirmation or a failed run is thrown as the coded error `dvm action run` prints.
 */
export async function runLocalAction(
  ctx: CommandContext,
  agent: Agent,
  action: string,
  params: Record<string, unknown>,
  options: LocalActionOptions = {},
): Promise<LocalActionOutcome> {
  const { LOCAL_PRINCIPAL } = await import('../agent/auth/principal.ts');
  const definition = agent.executor.registry.get(action);
  const request: ExecuteRequest = {
    request_id: `cli-${randomUUID()}`,
    action: definition.name,
    version: definition.version,
    params,
    target: { env: localEnvironment(ctx, agent) },
    // A command has no --timeout of its own: the action's longest (a seed of many rows, a deploy pulling an image).
    timeout: `${definition.timeouts?.maxMs ?? 3_600_000}ms`,
    ...(options.dryRun ? { dry_run: true } : {}),
  };
  const send = async (req: ExecuteRequest): Promise<ExecuteResponse> => {
    let unsubscribe = () => {};
    try {
      return await agent.executor.execute(req, LOCAL_PRINCIPAL, {
        wait: true,
        onStart: (executionId) => {
          if (!options.onProgress) return;
          unsubscribe = agent.executions.subscribe(
            executionId,
            0,
            (event) => {
              if (event.type === 'progress') options.onProgress?.(String(event.data.message));
            },
            () => {},
          );
        },
      });
    } finally {
      unsubscribe();
    }
  };
  let response = await send(request);
  if (response.status === 428) {
    let token: string;
    try {
      const { confirm } = await import('./commands/action-run.ts');
      token = await confirm(ctx, response, request, definition.risk, definition.inputSchema);
    } catch (error) {
      // Nobody will send it with a token from here (these commands take none): it leaves the approvers' list.
      const challenge = (response.body.details as { challenge?: { confirmation_token?: string } } | undefined)
        ?.challenge;
      if (challenge?.confirmation_token) agent.confirmations.withdraw(challenge.confirmation_token);
      if (!(error instanceof PromptInterrupted)) throw error;
      return { exit: interruptedAtQuestion(ctx, `not confirmed (Ctrl-C); ${definition.name} did not run`) };
    }
    response = await send({ ...request, confirmation_token: token });
  }
  // A run that failed says where its events are, as `dvm action run` does.
  if (response.status >= 400) throw (await import('./commands/action-run.ts')).runError(response);
  if (options.dryRun) return { result: response.body as Record<string, unknown> };
  return { result: (response.body.result ?? {}) as Record<string, unknown> };
}

/**
 * The environment a command's actions act in: --env when given, else the home's agent's one environment when it is
 * bound to exactly one (config.yaml agent.environments), else dev — what `dvm action run` defaults to.
 */
export function localEnvironment(ctx: CommandContext, agent: Agent): string {
  if (ctx.flags.env !== undefined) return targetFromFlags(ctx.flags.env, undefined).env;
  const bound = agent.settings.environments;
  return bound?.length === 1 && bound[0] ? bound[0] : 'dev';
}

/** A progress message printed on stderr, one line each, as the command printed it before it ran through the agent. */
export function progressPrinter(ctx: CommandContext): (message: string) => void {
  return (message) => ctx.io.stderr.write(terminalLines(`${message}\n`));
}
