import type { Agent } from '../agent/agent.ts';
import type { CommandContext } from './command.ts';

/** Opens the home's agent in this process (as `dvm action` without a server does), uses it, and closes it. */
export async function withLocalAgent<T>(ctx: CommandContext, use: (agent: Agent) => Promise<T>): Promise<T> {
  const { openAgent } = await import('../agent/agent.ts');
  const agent = await openAgent(ctx.home, { env: ctx.io.env as Record<string, string> });
  agent.alerts?.onOutcome((o) => {
    if (o.outcome === 'failed')
      ctx.io.stderr.write(`warning: audit alert ${o.rule} not sent: ${o.error.code}: ${o.error.message}\n`);
  });
  try {
    return await use(agent);
  } finally {
    await agent.close();
  }
}
