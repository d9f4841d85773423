import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import type { CommandContext } from '../command.ts';
import { withLocalAgent } from '../local-agent.ts';

/**
 * `dvm execution cancel ID`: through a remote agent (`dvm serve`), stops the execution there and prints it
 * cancelled (its record with -o json); in-process there is nothing to stop — an execution runs only in the
 * process that started it — so it answers why: DVM_EXECUTION_ELSEWHERE, DVM_EXECUTION_ENDED or
 * DVM_EXECUTION_NOT_FOUND.
 */
export async function cancelExecution(
  ctx: CommandContext,
  remote: AgentClient | undefined,
  id: string,
): Promise<number> {
  let record: Record<string, unknown>;
  if (remote) {
    const response = await remote.request('POST', `/v1/executions/${encodeURIComponent(id)}/cancel`);
    if (response.status !== 200) throw errorFromBody(response.status, response.body);
    record = response.body;
  } else {
    record = (await cancelHere(ctx, id)) as unknown as Record<string, unknown>;
  }
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return 0;
  }
  const code = (record.error as { code?: unknown } | undefined)?.code;
  // It may have ended on its own (its timeout) just before the cancel reached it: then it says how.
  ctx.io.stdout.write(
    code === 'DVM_CANCELLED'
      ? `execution ${record.id} cancelled (${record.action})\n`
      : `execution ${record.id} ended ${record.status}${code ? ` (${code})` : ''} before the cancel (${record.action})\n`,
  );
  return 0;
}

// In-process, as the local admin, through the agent's one cancel path (audited like the API's).
async function cancelHere(ctx: CommandContext, id: string) {
  const { LOCAL_PRINCIPAL } = await import('../../agent/auth/principal.ts');
  const { cancelExecutionBy } = await import('../../agent/execute/cancellation.ts');
  return withLocalAgent(ctx, (agent) => cancelExecutionBy(agent, id, LOCAL_PRINCIPAL));
}
