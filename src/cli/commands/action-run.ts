import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import type { ActionDefinition } from '../../actions/action.ts';
import { STREAM_TAGGED_LOG } from '../../actions/artifact.ts';
import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import { targetText } from '../../agent/execute/target-text.ts';
import type { ExecuteRequest, ExecuteResponse } from '../../agent/execute/types.ts';
import { REQUEST_ID } from '../../agent/execute/validate-request.ts';
import { createRedactor, loadRedactor, type Redactor } from '../../agent/redact.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { didYouMean } from '../../model/suggest.ts';
import type { CommandContext } from '../command.ts';
import { withLocalAgent } from '../local-agent.ts';
import { targetFromFlags } from '../target-flags.ts';
import { followRemote, printEvent, STREAMED } from './action-events.ts';

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

/**
 * The params a confirmation is about, one `key=value` each, secrets redacted (by the input schema and the redactor's
 * patterns: the home's, at the terminal) and long values cut: what the person at the terminal agrees to run.
 */
export function paramsShown(
  params: Record<string, unknown>,
  schema: Record<string, unknown>,
  redactor: Redactor = createRedactor(),
): string {
  const shown = redactor.redact(params, schema) as Record<string, unknown>;
  const pairs = Object.entries(shown).map(([key, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return `${key}=${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
  });
  return pairs.length > 0 ? pairs.join(' ') : '(none)';
}

async function confirm(
  ctx: CommandContext,
  response: ExecuteResponse,
  request: ExecuteRequest,
  risk: string,
  schema: Record<string, unknown>,
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
        fix: `Ask another principal whose role may run it to approve it — \`dvm action approve ${token}\` shows what it runs and asks (or POST /v1/confirmations/lookup, then /approve) — then run the same command again with --confirmation-token ${token}.`,
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
  // The answer is the target's environment, not "yes": a confirmation names what it confirms, as GitHub asks for a
  // repository's name before deleting it (seed 001: "required explicit target confirmation").
  const env = request.target.env;
  const said = (response.body.details as { reasons?: unknown } | undefined)?.reasons;
  const reasons = Array.isArray(said) && said.length > 0 ? ` (${said.map(String).join('; ')})` : '';
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `${request.action}@${request.version ?? 'latest'} is a ${risk} action on ${targetText(request.target)}${reasons}.\n  params: ${paramsShown(request.params ?? {}, schema, await loadRedactor(ctx.home))}\nType the environment's name (${env}) to run it: `,
    );
    if (answer.trim() !== env)
      throw new DvmError('DVM_CANCELLED', `not confirmed (the answer was not "${env}"); nothing ran`);
  } finally {
    rl.close();
  }
  return token;
}

/**
 * Prints an execution's answer: its line and summary on stderr, the raw output on stdout (not again when its lines
 * were `streamed` as they came); JSON with -o json.
 */
export function printResult(
  ctx: CommandContext,
  body: Record<string, unknown>,
  options: { streamed?: boolean } = {},
): void {
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
    artifact?: {
      content?: string;
      contentType?: string;
      truncated?: boolean;
      bytes?: number;
      totalBytes?: number;
      oversizeBytes?: number;
    };
  };
  ctx.io.stderr.write(
    `execution ${body.execution_id}: ${body.action}@${body.version} ${body.status} in ${body.duration_ms} ms\n`,
  );
  if (result && typeof result === 'object' && 'summary' in result) {
    // A raw output that is the summary itself (system.info's JSON) is printed once, on stdout.
    const summary = JSON.stringify(result.summary, null, 2);
    if (result.artifact?.content?.trim() !== summary) ctx.io.stderr.write(`${summary}\n`);
    if (result.artifact?.content && !options.streamed) printArtifact(ctx, result.artifact);
    if (result.artifact?.truncated) ctx.io.stderr.write(`${truncationNote(result.artifact)}\n`);
  } else {
    ctx.io.stdout.write(`${JSON.stringify(result ?? null, null, 2)}\n`);
  }
}

// What a truncated artifact kept, and why it may have kept little: the line (JSON: the item) at the cut was longer
// than the cap, and was left out whole.
function truncationNote(artifact: {
  bytes?: number;
  totalBytes?: number;
  contentType?: string;
  oversizeBytes?: number;
}): string {
  const kept = `kept ${artifact.bytes} of ${artifact.totalBytes} bytes`;
  if (artifact.oversizeBytes === undefined) return `(output truncated: ${kept})`;
  const unit = artifact.contentType?.startsWith('application/json') ? 'an item' : 'a line';
  return `(output truncated: ${kept}; ${unit} of ${artifact.oversizeBytes} bytes at the cut is longer than the output cap and was left out whole)`;
}

// An artifact's raw output on stdout; a stream-tagged log's lines on the stream they came from, untagged (as
// `docker logs` prints them).
function printArtifact(ctx: CommandContext, artifact: { content?: string; contentType?: string }): void {
  const content = artifact.content ?? '';
  if (artifact.contentType !== STREAM_TAGGED_LOG) {
    ctx.io.stdout.write(content.endsWith('\n') ? content : `${content}\n`);
    return;
  }
  for (const line of content.split('\n')) {
    if (line === '') continue;
    (line.startsWith('E ') ? ctx.io.stderr : ctx.io.stdout).write(`${line.slice(2)}\n`);
  }
}

// A change sent to a remote agent names its environment: that agent may serve stage or prod, where assuming dev
// would skip their confirmation. Reads, and in-process runs on one's own machine, default to dev.
function requireExplicitEnv(ctx: CommandContext, name: string, risk: string): void {
  if (risk === 'read' || ctx.flags.env !== undefined) return;
  if ((ctx.flags.target ?? []).some((pair) => pair.startsWith('env='))) return;
  throw new DvmError('DVM_USAGE', `${name} is a ${risk} action: name the environment it acts on with --env`, {
    fix: `Add --env (e.g. --env stage) to \`dvm action run ${name}\`: against a remote agent a change never assumes dev.`,
  });
}

// `--follow` on an action with a `follow` param (docker.logs, k8s.pod_logs) follows, as `kubectl logs -f` does,
// unless the param is given.
function followParam(
  ctx: CommandContext,
  params: Record<string, unknown>,
  schema: Record<string, unknown>,
): Record<string, unknown> {
  const follow = (schema.properties as Record<string, { type?: unknown }> | undefined)?.follow;
  if (!ctx.flags.follow || follow?.type !== 'boolean' || 'follow' in params) return params;
  return { ...params, follow: true };
}

function requestOf(
  ctx: CommandContext,
  definition: Pick<ActionDefinition, 'name' | 'version' | 'inputSchema'>,
): ExecuteRequest {
  const requestId = ctx.flags['request-id'];
  if (requestId !== undefined && !REQUEST_ID.test(requestId)) {
    throw new DvmError('DVM_USAGE', `--request-id "${requestId}" is not a valid request_id`, {
      fix: 'Use 1–128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit, e.g. --request-id deploy-42.',
    });
  }
  return {
    // A request id of one's own makes a command safe to run again: a repeat gets the first answer, not a second run.
    request_id: requestId ?? `cli-${randomUUID()}`,
    action: definition.name,
    version: definition.version,
    params: followParam(ctx, paramsOf(ctx.flags.param ?? [], definition.inputSchema), definition.inputSchema),
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
  action: { risk: string; inputSchema: Record<string, unknown> },
  send: (request: ExecuteRequest) => Promise<ExecuteResponse>,
  streamed: () => boolean,
  follow?: (executionId: string) => Promise<ExecuteResponse>,
): Promise<number> {
  let response = await send(request);
  if (response.status === 428) {
    const token = await confirm(ctx, response, request, action.risk, action.inputSchema);
    response = await send({ ...request, confirmation_token: token });
  }
  if (response.replayed) {
    ctx.io.stderr.write(
      `request_id ${request.request_id} was sent before: this is the first request's answer (nothing ran again)\n`,
    );
  }
  if (response.status === 202 && follow) response = await follow(String(response.body.execution_id));
  if (response.status >= 400) throw errorFromBody(response.status, response.body);
  // In JSON too, a script can tell a first answer that came back from a run (the API says so in a header).
  const body = response.replayed ? { ...response.body, replayed: true } : response.body;
  printResult(ctx, body, { streamed: streamed() });
  return 0;
}

/**
 * `dvm action run NAME` in-process, as the local admin principal, through the same execute(). Ctrl-C cancels the
 * execution through the agent's cancel path (it ends failed/DVM_CANCELLED, recorded and audited) and exits 130; a
 * second Ctrl-C exits at once (the next dvm finds the execution interrupted).
 */
export async function runLocal(ctx: CommandContext, name: string): Promise<number> {
  return withLocalAgent(ctx, async (agent) => {
    const { LOCAL_PRINCIPAL } = await import('../../agent/auth/principal.ts');
    const { cancelExecutionBy } = await import('../../agent/execute/cancellation.ts');
    const definition = agent.executor.registry.get(name);
    const request = requestOf(ctx, definition);
    let running: string | undefined;
    let interrupted: string | undefined;
    let streamedLines = 0;
    const interrupt = () => {
      if (interrupted || !running) process.exit(130);
      interrupted = running;
      ctx.io.stderr.write(`\ncancelling execution ${running} (Ctrl-C again to quit at once)\n`);
      cancelExecutionBy(agent, running, LOCAL_PRINCIPAL).catch(() => {});
    };
    const send = async (req: ExecuteRequest) => {
      let unsubscribe = () => {};
      const response = await agent.executor.execute(req, LOCAL_PRINCIPAL, {
        wait: true,
        onStart: (executionId) => {
          running = executionId;
          if (!ctx.flags.follow) return;
          unsubscribe = agent.executions.subscribe(
            executionId,
            0,
            (event) => {
              if (!STREAMED.has(event.type)) return;
              printEvent(ctx, event.type, event.data);
              if (event.type === 'log') streamedLines++;
            },
            () => {},
          );
        },
      });
      unsubscribe();
      running = undefined;
      return response;
    };
    process.on('SIGINT', interrupt);
    try {
      return await finish(ctx, request, definition, send, () => streamedLines > 0);
    } catch (error) {
      if (!interrupted || !isDvmError(error) || error.code !== 'DVM_CANCELLED') throw error;
      ctx.io.stderr.write(
        `execution ${interrupted} cancelled (Ctrl-C): it ended failed with DVM_CANCELLED, recorded and audited\n`,
      );
      return 130;
    } finally {
      process.off('SIGINT', interrupt);
    }
  });
}

/** `dvm action run NAME` against a remote agent (`dvm serve`). */
export async function runRemote(ctx: CommandContext, remote: AgentClient, name: string): Promise<number> {
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
    const names = (catalog.body.actions as { name: string }[]).map((a) => a.name);
    throw new DvmError(
      'DVM_ACTION_UNKNOWN',
      `the agent has no action named "${name}"${didYouMean(name, names)}`,
      {
        fix: 'Run `dvm action list` to see its actions.',
      },
    );
  }
  requireExplicitEnv(ctx, entry.name, entry.risk);
  const request = requestOf(ctx, {
    name: entry.name,
    version: entry.version,
    inputSchema: entry.input_schema,
  });
  let streamedLines = 0;
  const follow = async (executionId: string): Promise<ExecuteResponse> => {
    const outcome = await followRemote(ctx, remote, executionId, (event) => {
      if (!STREAMED.has(event.type)) return;
      printEvent(ctx, event.type, event.data);
      if (event.type === 'log') streamedLines++;
    });
    // An execute answer's fields, as a run that answered at once has them (-o json).
    const known = { request_id: request.request_id, risk: entry.risk, target: request.target };
    return outcome.status === 200 ? { ...outcome, body: { ...known, ...outcome.body } } : outcome;
  };
  return finish(
    ctx,
    request,
    { risk: entry.risk, inputSchema: entry.input_schema },
    // Safe to send again after a lost answer or a refusal: the agent answers a repeated request_id, never runs it twice.
    (req) => remote.request('POST', '/v1/actions/execute', req, undefined, { retry: true }),
    () => streamedLines > 0,
    follow,
  );
}
