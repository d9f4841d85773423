import type { AddressInfo } from 'node:net';
import { openAgent } from './agent.ts';
import { createAgentServer } from './server/create-server.ts';

/** Opens the agent and serves its API on `host:port` (port 0 picks a free one); `close()` stops both. */
export async function startAgentApi(
  home: string,
  listen: { host: string; port: number },
  env: Record<string, string>,
): Promise<{ address: string; close(): Promise<void> }> {
  const agent = await openAgent(home, { env });
  const app = createAgentServer(agent, { version: agent.version });
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    await agent.close();
    const { DvmError } = await import('../errors/dvm-error.ts');
    const code = (error as NodeJS.ErrnoException).code;
    throw new DvmError(
      'DVM_USAGE',
      `cannot listen on ${listen.host}:${listen.port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}`,
      { fix: 'Pass another --listen HOST:PORT (port 0 picks a free one), or stop what holds the port.' },
    );
  }
  const { address, port } = app.server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    address: `http://${host}:${port}`,
    async close() {
      await app.close();
      await agent.close();
    },
  };
}
