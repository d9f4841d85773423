import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActionDefinition } from '../../actions/action.ts';
import { AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import type { ExecuteRequest, ExecuteResponse } from '../../agent/execute/types.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { Command, CommandContext } from '../command.ts';
import { renderTable } from '../output/table.ts';
import { targetFromFlags } from '../target-flags.ts';

const USAGE = `Usage:
  dvm action list [-o table|json]
  dvm action run NAME [--param KEY=VALUE …] [--env ENV] [--target KEY=VALUE …] [--dry-run] [--follow]
                      [--yes] [--confirmation-token dvmc_…] [--timeout 30s] [-o json]

Runs a typed action through the one enforcement path: input validation, policy, confirmation, idempotency,
timeout and output cap, audit. With --server URL (or DVM_SERVER) and DVM_TOKEN it asks a remote agent
(dvm serve); without them it runs in-process as the local admin principal, through the same execute().

--param values are read by the action's input schema: numbers, booleans and JSON lists/objects where the
schema says so, strings otherwise. --env is the target environment (default dev); policies decide on it:
write and destructive actions in stage and prod need confirmation, which dvm asks for on a terminal (--yes
confirms for scripts; the policy must still allow it). Under the two-person rule another principal approves
the challenge first (POST /v1/confirmations/approve); then run the same action, params and target again with
--confirmation-token set to the challenge's token. --follow streams progress and log lines.`;

/** Parses `--param k=v` by the type the action's input schema gives `k`. */
export function paramsOf(pairs: readonly string[], schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, { type?: string | string[] }>;
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new DvmError('DVM_USAGE', `--param "${pair}" is not KEY=VALUE`, {
        fix: 'Write e.g. --param tail=50.',
      });
    }
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const types = [properties[key]?.type ?? 'string'].flat();
    let value: unknown = raw;
    if (!types.includes('string')) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw; // the schema check reports the type mismatch with its path
      }
    }
    params[key] = value;
  }
  return params;
}

// What the real run of a dry-run answer would meet, said after its verdict.
function runNeeds(body: Record<string, unknown>): string {
  if (body.run_decision === 'confirm')
    return body.run_approval === 'other-principal'
      ? '; the real run needs a confirmation approved by a second principal'
      : '; the real run needs a confirmation (dvm action run asks on a terminal; --yes for scripts)';
  if (body.run_decision === 'deny') return '; the real run would be denied';
  return '';
}

async function confirm(
  ctx: CommandContext,
  response: ExecuteResponse,
  request: ExecuteRequest,
  risk: string,
) {
  const details = (response.body.details ?? {}) as {
    challenge?: { confirmation_token?: string; approval?: string };
  };
  const token = details.challenge?.confirmation_token;
  if (!token) throw errorFromBody(response.status, response.body);
  if (details.challenge?.approval === 'other-principal') {
    throw new DvmError(
      'DVM_CONFIRMATION_REQUIRED',
      `${request.action} in ${request.target.env} needs a second principal to approve it first`,
      {
        fix: `Ask another operator to check what token ${token} is for (POST /v1/confirmations/lookup) and approve it (POST /v1/confirmations/approve), then run the same command again with --confirmation-token ${token}.`,
        details: { challenge: details.challenge },
      },
    );
  }
  if (ctx.flags.yes) return token;
  if (!process.stdin.isTTY || ctx.io.stdout !== process.stdout) {
    throw new DvmError(
      'DVM_CONFIRMATION_REQUIRED',
      `${request.action} (${risk}) in ${request.target.env} needs confirmation`,
      {
        fix: 'Run it on a terminal to answer the question, or pass --yes.',
      },
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `${request.action} is a ${risk} action on ${JSON.stringify(request.target)}. Run it? Type "yes": `,
    );
    if (answer.trim().toLowerCase() !== 'yes')
      throw new DvmError('DVM_CANCELLED', 'not confirmed; nothing ran');
  } finally {
    rl.close();
  }
  return token;
}

function printResult(ctx: CommandContext, body: Record<string, unknown>): void {
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  if (body.dry_run) {
    ctx.io.stdout.write(
      `dry run: ${body.action}@${body.version} (${body.risk}) on ${JSON.stringify(body.target)} would be allowed by ${(body.policy_ids as string[]).join(', ') || 'policy'}${runNeeds(body)}\n`,
    );
    return;
  }
  const result = body.result as {
    summary?: unknown;
    artifact?: { content?: string; truncated?: boolean; bytes?: number; totalBytes?: number };
  };
  ctx.io.stderr.write(
    `execution ${body.execution_id}: ${body.action}@${body.version} ${body.status} in ${body.duration_ms} ms\n`,
  );
  if (result && typeof result === 'object' && 'summary' in result) {
    ctx.io.stderr.write(`${JSON.stringify(result.summary, null, 2)}\n`);
    if (result.artifact?.content)
      ctx.io.stdout.write(
        result.artifact.content.endsWith('\n') ? result.artifact.content : `${result.artifact.content}\n`,
      );
    if (result.artifact?.truncated) {
      ctx.io.stderr.write(
        `(output truncated: kept ${result.artifact.bytes} of ${result.artifact.totalBytes} bytes)\n`,
      );
    }
  } else {
    ctx.io.stdout.write(`${JSON.stringify(result ?? null, null, 2)}\n`);
  }
}

// How long --follow keeps trying to resume a broken stream, and how often.
const FOLLOW_RECONNECT_MS = 15_000;
const FOLLOW_RETRY_MS = 500;

// Events --follow prints as they come (the end is printed from the result).
const STREAMED = new Set(['log', 'progress', 'truncated']);

function printEvent(ctx: CommandContext, type: string, data: Record<string, unknown>): void {
  if (ctx.flags.output === 'json') ctx.io.stdout.write(`${JSON.stringify({ type, ...data })}\n`);
  else if (type === 'log') (data.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout).write(`${data.line}\n`);
  else if (type === 'progress')
    ctx.io.stderr.write(`… ${data.message}${data.percent !== undefined ? ` (${data.percent}%)` : ''}\n`);
  else if (type === 'truncated')
    ctx.io.stderr.write(
      `… output past ${data.max_bytes} bytes is not streamed (the result has the byte counts)\n`,
    );
}

/** `dvm action list|run`: the typed action catalog and its one execution path, local or remote. */
export const command: Command = {
  summary: 'List actions, or run one through policy, confirmation and audit',
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
    'server',
    'output',
  ],
  maxArgs: (args) => (args[0] === 'run' ? 2 : 1),
  async run(ctx) {
    const [sub, name] = ctx.positionals;
    const server = ctx.flags.server ?? ctx.io.env.DVM_SERVER;
    const remote = server ? new AgentClient(server, ctx.io.env.DVM_TOKEN) : undefined;
    if (!remote && ctx.io.env.DVM_TOKEN) {
      ctx.io.stderr.write(
        'warning: DVM_TOKEN is set but no server is (--server or DVM_SERVER): running in-process as the local admin; the token is not used\n',
      );
    }
    if (sub === 'list') return list(ctx, remote);
    if (sub !== 'run' || !name) {
      throw new DvmError('DVM_USAGE', 'usage: dvm action list | dvm action run NAME [--param k=v …]', {
        fix: 'Run `dvm action list` to see the actions.',
      });
    }
    if (remote) return runRemote(ctx, remote, name);
    const { openAgent } = await import('../../agent/agent.ts');
    const agent = await openAgent(ctx.home, { env: ctx.io.env as Record<string, string> });
    try {
      const { LOCAL_PRINCIPAL } = await import('../../agent/auth/principal.ts');
      const definition = agent.executor.registry.get(name);
      const request = requestOf(ctx, definition);
      const send = async (req: ExecuteRequest) => {
        let unsubscribe = () => {};
        const response = await agent.executor.execute(req, LOCAL_PRINCIPAL, {
          wait: true,
          onStart: (executionId) => {
            if (!ctx.flags.follow) return;
            unsubscribe = agent.executions.subscribe(
              executionId,
              0,
              (event) => {
                if (STREAMED.has(event.type)) printEvent(ctx, event.type, event.data);
              },
              () => {},
            );
          },
        });
        unsubscribe();
        return response;
      };
      return await finish(ctx, request, definition.risk, send);
    } finally {
      await agent.close();
    }
  },
};

function requestOf(
  ctx: CommandContext,
  definition: Pick<ActionDefinition, 'name' | 'version' | 'inputSchema'>,
): ExecuteRequest {
  return {
    request_id: `cli-${randomUUID()}`,
    action: definition.name,
    version: definition.version,
    params: paramsOf(ctx.flags.param ?? [], definition.inputSchema),
    target: targetFromFlags(ctx.flags.env, ctx.flags.target),
    ...(ctx.flags['dry-run'] ? { dry_run: true } : {}),
    ...(ctx.flags.timeout ? { timeout: ctx.flags.timeout } : {}),
    // A challenge's token, approved by a second principal (two-person rule) or confirmed ahead.
    ...(ctx.flags['confirmation-token'] ? { confirmation_token: ctx.flags['confirmation-token'] } : {}),
  };
}

// Sends the request; answers a 428 by confirming (asking on a terminal, or --yes) and sending it again.
async function finish(
  ctx: CommandContext,
  request: ExecuteRequest,
  risk: string,
  send: (request: ExecuteRequest) => Promise<ExecuteResponse>,
  follow?: (executionId: string) => Promise<ExecuteResponse>,
): Promise<number> {
  let response = await send(request);
  if (response.status === 428) {
    const token = await confirm(ctx, response, request, risk);
    response = await send({ ...request, confirmation_token: token });
  }
  if (response.status === 202 && follow) response = await follow(String(response.body.execution_id));
  if (response.status >= 400) throw errorFromBody(response.status, response.body);
  printResult(ctx, response.body);
  return 0;
}

async function list(ctx: CommandContext, remote: AgentClient | undefined): Promise<number> {
  let actions: { name: string; version: string; risk: string; description: string }[];
  if (remote) {
    const response = await remote.request('GET', '/v1/actions');
    if (response.status !== 200) throw errorFromBody(response.status, response.body);
    actions = response.body.actions as typeof actions;
  } else {
    const { createAgentRegistry } = await import('../../agent/registry.ts');
    actions = createAgentRegistry(ctx.home).list();
  }
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(`${JSON.stringify({ actions }, null, 2)}\n`);
    return 0;
  }
  ctx.io.stdout.write(
    renderTable(
      ['NAME', 'VERSION', 'RISK', 'DESCRIPTION'],
      actions.map((a) => [a.name, a.version, a.risk, a.description.split('\n')[0]]),
    ),
  );
  return 0;
}

async function runRemote(ctx: CommandContext, remote: AgentClient, name: string): Promise<number> {
  const catalog = await remote.request('GET', '/v1/actions');
  if (catalog.status !== 200) throw errorFromBody(catalog.status, catalog.body);
  const entry = (
    catalog.body.actions as {
      name: string;
      version: string;
      risk: string;
      input_schema: Record<string, unknown>;
    }[]
  )
    .filter((a) => a.name === name)
    .at(-1);
  if (!entry) {
    throw new DvmError('DVM_ACTION_UNKNOWN', `the agent has no action named "${name}"`, {
      fix: 'Run `dvm action list --server …` to see its actions.',
    });
  }
  const request = requestOf(ctx, {
    name: entry.name,
    version: entry.version,
    inputSchema: entry.input_schema,
  });
  const follow = async (executionId: string): Promise<ExecuteResponse> => {
    // A stream that breaks off before the execution's end (the agent restarted, a proxy cut it) is resumed after
    // the last event received, like EventSource does, for up to FOLLOW_RECONNECT_MS without an answer.
    let last = 0;
    let ended = false;
    let lostSince: number | undefined;
    while (!ended) {
      try {
        for await (const event of remote.events(executionId, last)) {
          lostSince = undefined;
          if (event.id && /^\d+$/.test(event.id)) last = Number(event.id);
          if (event.event === 'completed' || event.event === 'failed') ended = true;
          const data = JSON.parse(event.data) as Record<string, unknown>;
          if (STREAMED.has(event.event)) printEvent(ctx, event.event, data);
        }
        if (ended) break;
        // Ended without the execution's end: whether it still runs is asked below.
        const state = await remote.request('GET', `/v1/executions/${encodeURIComponent(executionId)}`);
        if (state.status !== 200 || state.body.status !== 'running') break;
      } catch (error) {
        // An answer the agent gave (401 for a revoked token, 404) ends the follow; a lost connection does not.
        if (isDvmError(error) && error.code !== 'DVM_CONNECTOR_UNAVAILABLE') throw error;
        lostSince ??= Date.now();
        if (Date.now() - lostSince > FOLLOW_RECONNECT_MS) {
          throw new DvmError(
            'DVM_CONNECTOR_UNAVAILABLE',
            `lost the connection to the agent while following execution ${executionId} (after event ${last}): ${(error as Error).message}`,
            {
              fix: `Check the execution once the agent is back: GET /v1/executions/${executionId} (its events resume with Last-Event-ID: ${last}).`,
              details: { execution_id: executionId, last_event_id: last },
            },
          );
        }
      }
      if (!ended) await sleep(FOLLOW_RETRY_MS);
    }
    return remote.request('GET', `/v1/executions/${encodeURIComponent(executionId)}`).then((r) => {
      if (r.status !== 200) return r;
      const record = r.body as {
        status: string;
        result?: unknown;
        error?: Record<string, unknown>;
        created_at: string;
        finished_at?: string;
      };
      const durationMs = record.finished_at
        ? Date.parse(record.finished_at) - Date.parse(record.created_at)
        : undefined;
      return record.status === 'succeeded'
        ? {
            status: 200,
            body: { ...r.body, execution_id: executionId, duration_ms: durationMs, result: record.result },
          }
        : {
            status: 500,
            body: record.error ?? { code: 'DVM_EXECUTION_INTERRUPTED', message: record.status },
          };
    });
  };
  return finish(
    ctx,
    request,
    entry.risk,
    (req) => remote.request('POST', '/v1/actions/execute', req),
    follow,
  );
}
