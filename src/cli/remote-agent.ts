import { closeSync, openSync, readSync } from 'node:fs';
import { AgentClient } from '../agent/client/agent-client.ts';
import { DEFAULT_RETRY_POLICY, MAX_RETRIES } from '../agent/client/retry-policy.ts';
import { DvmError } from '../errors/dvm-error.ts';
import type { CommandContext } from './command.ts';

// What a bearer token can be: printable ASCII without spaces (dvm's own are dvm_<id>_<secret>).
const TOKEN_TEXT = /^[\x21-\x7e]{1,1024}$/;

// --retries N: a whole number from 0 (no retries) to MAX_RETRIES.
function retriesOf(ctx: CommandContext): number {
  const text = ctx.flags.retries;
  if (text === undefined) return DEFAULT_RETRY_POLICY.retries;
  if (!/^\d{1,2}$/.test(text) || Number(text) > MAX_RETRIES) {
    throw new DvmError('DVM_USAGE', `--retries "${text}" is not a whole number from 0 to ${MAX_RETRIES}`, {
      fix: `Pass e.g. --retries 5, or --retries 0 to report the first failure (default ${DEFAULT_RETRY_POLICY.retries}).`,
    });
  }
  return Number(text);
}

/**
 * The bearer token for a remote agent: DVM_TOKEN, or the first line of the file DVM_TOKEN_FILE names (a mounted
 * secret, kept out of the environment and the process list, as Vault's token sinks are). Both set is DVM_USAGE.
 */
export function remoteToken(env: Record<string, string | undefined>): string | undefined {
  const file = env.DVM_TOKEN_FILE;
  if (!file) {
    if (env.DVM_TOKEN && !TOKEN_TEXT.test(env.DVM_TOKEN)) {
      throw new DvmError('DVM_USAGE', 'DVM_TOKEN is not a token: it holds spaces or control characters', {
        fix: 'Set it to the token that `dvm token create` printed, nothing around it.',
      });
    }
    return env.DVM_TOKEN || undefined;
  }
  if (env.DVM_TOKEN) {
    throw new DvmError('DVM_USAGE', 'DVM_TOKEN and DVM_TOKEN_FILE are both set', {
      fix: 'Unset one of them: DVM_TOKEN_FILE names a file that holds the token.',
    });
  }
  let text: string;
  try {
    // The first 4 KiB are plenty for a token line (and /dev/zero or a log file by mistake cannot fill memory).
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(4096);
      text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, null)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new DvmError(
      'DVM_USAGE',
      `DVM_TOKEN_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { fix: 'Point DVM_TOKEN_FILE at a readable file holding the token that `dvm token create` printed.' },
    );
  }
  const token = text.split(/\r?\n/)[0].trim();
  if (!TOKEN_TEXT.test(token)) {
    throw new DvmError('DVM_USAGE', `DVM_TOKEN_FILE ${file} holds no token on its first line`, {
      fix: 'Write the token that `dvm token create` printed into it, alone on the first line.',
    });
  }
  return token;
}

/**
 * The remote agent a command talks to (--server or DVM_SERVER, with DVM_TOKEN or DVM_TOKEN_FILE), or undefined to
 * work in-process.
 * Its client retries what is safe to send again (--retries, default 3) and says so on stderr each time.
 */
export function remoteAgent(ctx: CommandContext): AgentClient | undefined {
  const retries = retriesOf(ctx);
  const server = ctx.flags.server ?? ctx.io.env.DVM_SERVER;
  if (!server) {
    // A token says the caller meant a remote agent: running in-process as the local admin instead (a typo in
    // DVM_SERVER, a script's missing variable) would act with more rights, on another host, audited elsewhere.
    const tokenVariable = ['DVM_TOKEN', 'DVM_TOKEN_FILE'].find((name) => ctx.io.env[name]);
    if (tokenVariable)
      throw new DvmError(
        'DVM_USAGE',
        `${tokenVariable} is set but no server is (--server or DVM_SERVER): the token is for a remote agent, and dvm will not run in-process as the local admin in its place`,
        {
          fix: `Set DVM_SERVER (or --server URL) to the agent the token is for; to run in-process on this host, unset ${tokenVariable}.`,
        },
      );
    if (ctx.flags.retries !== undefined)
      ctx.io.stderr.write(
        'warning: --retries applies to a remote agent (--server or DVM_SERVER); nothing here retries\n',
      );
    return undefined;
  }
  const token = remoteToken(ctx.io.env);
  // Every route a command calls needs a token: without one each would come back 401, with advice for HTTP clients.
  if (token === undefined) {
    throw new DvmError(
      'DVM_USAGE',
      `a remote agent (${ctx.flags.server ? '--server' : 'DVM_SERVER'}) needs a token, and none is set`,
      {
        fix: "Set DVM_TOKEN (or DVM_TOKEN_FILE) to a token that `dvm token create` printed on the agent's host; or unset DVM_SERVER to run in-process.",
      },
    );
  }
  return new AgentClient(server, token, {
    serverSource: ctx.flags.server ? '--server' : 'DVM_SERVER',
    retry: { ...DEFAULT_RETRY_POLICY, retries },
    onRetry: ({ method, path, reason, attempt, delayMs }) =>
      ctx.io.stderr.write(
        `${method} ${path.split('?')[0]}: ${reason}; sending it again in ${(delayMs / 1000).toFixed(1)} s (retry ${attempt} of ${retries})\n`,
      ),
  });
}
