import { randomUUID } from 'node:crypto';
import type { ActionDefinition } from '../../actions/action.ts';
import { STREAM_TAGGED_LOG } from '../../actions/artifact.ts';
import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import { targetText } from '../../agent/execute/target-text.ts';
import type { ExecuteRequest, ExecuteResponse } from '../../agent/execute/types.ts';
import { REQUEST_ID } from '../../agent/execute/validate-request.ts';
import { createRedactor, loadRedactor, type Redactor } from '../../agent/redact.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { catalogEntry, splitActionRef } from '../action-ref.ts';
import type { CommandContext } from '../command.ts';
import { withLocalAgent } from '../local-agent.ts';
import { targetFromFlags } from '../target-flags.ts';
import { ask, canAsk, interruptedAtQuestion, PromptInterrupted } from '../terminal-prompt.ts';
import { terminalLines, terminalText } from '../terminal-text.ts';
import { followRemote, printEvent, STREAMED } from './action-events.ts';

// A --param value by the types the schema allows: JSON for a key that cannot be a string (a number, a boolean, a
// list…); for one that may also be a string (exec's command: a string or an argv list), a JSON list or object when
// the schema allows that and the value is one, else the string as given.
function paramValue(raw: string, types: readonly string[]): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw; // not JSON: a string, or a type mismatch the schema check reports with its path
  }
  if (!types.includes('string')) return parsed;
  if (Array.isArray(parsed)) return types.includes('array') ? parsed : raw;
  if (parsed !== null && typeof parsed === 'object') return types.includes('object') ? parsed : raw;
  return raw;
}

/**
 * Parses `--param k=v` by the type the action's input schema gives `k`: a string as given; JSON where `k` cannot be
 * a string; a JSON list or object where `k` may be a string or one of those (`command=["echo","a b"]`).
 */
export function paramsOf(pairs: readonly string[], schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, { type?: string | string[] }>;
  const params: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new DvmError('DVM_USAGE', `--param "${pair}" is not KEY=VALUE`, {
        fix: 'Write e.g. --param tail=50.',
      });
    }
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    // What the action acts on is never the last of two values, silently (as for every flag of one value).
    const before = given.get(key);
    if (before !== undefined && before !== raw)
      throw new DvmError('DVM_USAGE', `--param ${key} is given twice: ${before} and ${raw}`, {
        fix: `Give ${key} once.`,
      });
    given.set(key, raw);
    // Defined, not assigned: `--param __proto__=…` stays a key, for the agent to refuse (DVM_REQUEST_FORBIDDEN_KEY).
    Object.defineProperty(params, key, {
      value: paramValue(
        raw,
        [(Object.hasOwn(properties, key) ? properties[key]?.type : undefined) ?? 'string'].flat(),
      ),
      enumerable: true,
      writable: true,
      configurable: true,
    });
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
    // On one line, as written: a newline or an escape sequence in a value cannot forge what the question shows.
    return terminalText(`${key}=${text.length > 80 ? `${text.slice(0, 77)}...` : text}`);
  });
  return pairs.length > 0 ? pairs.join(' ') : '(none)';
}

/**
 * Meets a 428's confirmation gate for `request`: a second principal's approval is an error saying how to get it;
 * --yes confirms; on a terminal the person types the environment's name; otherwise it is refused. Answers the token.
 */
export async function confirm(
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
  if (!canAsk(ctx)) {
    throw new DvmError(
      'DVM_CONFIRMATION_REQUIRED',
      `${request.action} (${risk}) in ${request.target.env} needs confirmation`,
      {
        fix: 'Run it on a terminal to answer the question (stdin and stderr on the terminal: the question is asked on stderr), or pass --yes.',
      },
    );
  }
  // The answer is the target's environment, not "yes": a confirmation names what it confirms, as GitHub asks for a
  // repository's name before deleting it (seed 001: "required explicit target confirmation").
  const env = request.target.env;
  const said = (response.body.details as { reasons?: unknown } | undefined)?.reasons;
  const reasons =
    Array.isArray(said) && said.length > 0 ? ` (${said.map((r) => terminalText(r)).join('; ')})` : '';
  const params = paramsShown(request.params ?? {}, schema, await loadRedactor(ctx.home));
  const answer = await ask(
    `${terminalText(request.action)}@${terminalText(request.version ?? 'latest')} is a ${terminalText(risk)} action on ${terminalText(targetText(request.target))}${reasons}.\n  params: ${params}\nType the environment's name (${terminalText(env)}) to run it: `,
  );
  // The end of input (Ctrl-D) is no answer: refused as a wrong one is.
  if (answer === undefined)
    throw new DvmError('DVM_CANCELLED', 'not confirmed (no answer: end of input); nothing ran');
  if (answer.trim() !== env)
    throw new DvmError('DVM_CANCELLED', `not confirmed (the answer was not "${env}"); nothing ran`);
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
      `dry run: ${terminalText(`${body.action}@${body.version} (${body.risk}) on ${JSON.stringify(body.target)} would be allowed by ${(body.policy_ids as string[]).join(', ') || 'policy'}`)}${runNeeds(body)}\n`,
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
    `execution ${terminalText(`${body.execution_id}: ${body.action}@${body.version} ${body.status} in ${body.duration_ms}`)} ms\n`,
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
  const target = targetFromFlags(ctx.flags.env, ctx.flags.target);
  // The pipeline environment (no confirmation gate) is for the tasks of a run: from the console (the local user as
  // pipeline tasks run), it would be a way around the stage and prod gates.
  if (target.env === 'pipeline') {
    throw new DvmError(
      'DVM_USAGE',
      'the pipeline environment is for the tasks of a run (dvm run), not for dvm action run',
      {
        path: ctx.flags.env === 'pipeline' ? '--env' : '--target',
        fix: 'Name the environment the action acts on (--env dev, stage, prod, …), or run it as a task of a pipeline.',
      },
    );
  }
  return {
    // A request id of one's own makes a command safe to run again: a repeat gets the first answer, not a second run.
    request_id: requestId ?? `cli-${randomUUID()}`,
    action: definition.name,
    version: definition.version,
    params: followParam(ctx, paramsOf(ctx.flags.param ?? [], definition.inputSchema), definition.inputSchema),
    target,
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
  replay?: (executionId: string) => Promise<void>,
): Promise<number> {
  let response = await send(request);
  if (response.status === 428) {
    let token: string;
    try {
      token = await confirm(ctx, response, request, action.risk, action.inputSchema);
    } catch (error) {
      if (!(error instanceof PromptInterrupted)) throw error;
      return interruptedAtQuestion(ctx, 'not confirmed (Ctrl-C); nothing ran');
    }
    response = await send({ ...request, confirmation_token: token });
  }
  if (response.replayed) {
    ctx.io.stderr.write(
      `request_id ${request.request_id} was sent before: this is the first request's answer (nothing ran again)\n`,
    );
  }
  if (response.status === 202 && follow) response = await follow(String(response.body.execution_id));
  else if (
    response.status === 200 &&
    replay &&
    ctx.flags.follow &&
    typeof response.body.execution_id === 'string'
  )
    await replay(response.body.execution_id);
  if (response.status >= 400) throw runError(response);
  // In JSON too, a script can tell a first answer that came back from a run (the API says so in a header).
  const body = response.replayed ? { ...response.body, replayed: true } : response.body;
  printResult(ctx, body, { streamed: streamed() });
  return 0;
}

/**
 * The error of an answer; an action that ran and failed also says where its events are (what a command printed
 * before it failed, the progress it made), which the answer itself does not carry.
 */
export function runError(response: ExecuteResponse): DvmError {
  const error = errorFromBody(response.status, response.body);
  const id = response.body.execution_id;
  if (typeof id !== 'string') return error;
  return new DvmError(error.code, error.message, {
    fix: `${error.fix ? `${error.fix} ` : ''}Its output and progress: dvm execution logs ${id}.`,
    causes: error.causes,
    details: error.details,
  });
}

// How a signal is named to the person who sent it, and the exit status it ends dvm with (128 + its number).
const SIGNALS = {
  SIGINT: { shown: 'Ctrl-C', exit: 130 },
  SIGTERM: { shown: 'SIGTERM', exit: 143 },
} as const;
type StopSignal = keyof typeof SIGNALS;

/**
 * `dvm action run NAME` in-process, as the local admin principal, through the same execute(). Ctrl-C (or SIGTERM: a
 * `timeout`, a cancelled CI job) cancels the execution through the agent's cancel path (it ends failed/DVM_CANCELLED,
 * recorded and audited) and exits 130 (143); a second signal exits at once (the next dvm finds the execution
 * interrupted).
 */
export async function runLocal(ctx: CommandContext, name: string): Promise<number> {
  return withLocalAgent(ctx, async (agent) => {
    const { LOCAL_PRINCIPAL } = await import('../../agent/auth/principal.ts');
    const { cancelExecutionBy } = await import('../../agent/execute/cancellation.ts');
    const ref = splitActionRef(name);
    const definition = agent.executor.registry.get(ref.name, ref.version);
    const request = requestOf(ctx, definition);
    let running: string | undefined;
    let interrupted: { id: string; signal: StopSignal } | undefined;
    let streamedLines = 0;
    const interrupt = (signal: StopSignal) => {
      if (interrupted || !running) process.exit(SIGNALS[signal].exit);
      interrupted = { id: running, signal };
      ctx.io.stderr.write(
        signal === 'SIGINT'
          ? `\ncancelling execution ${running} (Ctrl-C again to quit at once)\n`
          : `\ncancelling execution ${running} (SIGTERM; a second signal quits at once)\n`,
      );
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
    process.on('SIGTERM', interrupt);
    try {
      return await finish(ctx, request, definition, send, () => streamedLines > 0);
    } catch (error) {
      if (!interrupted || !isDvmError(error) || error.code !== 'DVM_CANCELLED') throw error;
      const { id, signal } = interrupted;
      ctx.io.stderr.write(
        `execution ${id} cancelled (${SIGNALS[signal].shown}): it ended failed with DVM_CANCELLED, recorded and audited\n`,
      );
      // A write stopped mid-way may have done what it asked for: its end says so, and how to check.
      if (error.details.outcome === 'unknown')
        ctx.io.stderr.write(terminalLines(`  ${error.message}\n${error.fix ? `  fix: ${error.fix}\n` : ''}`));
      return SIGNALS[signal].exit;
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    }
  });
}

// Sends a request to a remote agent and waits for its answer; Ctrl-C (or SIGTERM) meanwhile leaves the agent running
// it, so dvm says so, with the request_id that finds it again (no execution id is known before the answer), and exits.
async function sendRemote(
  ctx: CommandContext,
  remote: AgentClient,
  request: ExecuteRequest,
): Promise<ExecuteResponse> {
  const stopped = (signal: StopSignal) => {
    const id = request.request_id;
    ctx.io.stderr.write(
      `\nstopped waiting (${SIGNALS[signal].shown}); request ${id} goes on in the agent if it reached it (this does not cancel it): ` +
        `the same command with --request-id ${id} waits for its answer without running it again; ` +
        `\`dvm execution list --action ${request.action}\` finds its execution, \`dvm execution cancel ID\` stops it\n`,
    );
    process.exit(SIGNALS[signal].exit);
  };
  process.once('SIGINT', stopped);
  process.once('SIGTERM', stopped);
  try {
    // Safe to send again after a lost answer or a refusal: the agent answers a repeated request_id, never runs it twice.
    return await remote.request('POST', '/v1/actions/execute', request, undefined, { retry: true });
  } finally {
    process.off('SIGINT', stopped);
    process.off('SIGTERM', stopped);
  }
}

/**
 * `dvm action run NAME` against a remote agent (`dvm serve`). Ctrl-C stops waiting, not the execution: the agent
 * runs it on, and dvm says how to find it (`--follow`: how to follow it again) and how to cancel it.
 */
export async function runRemote(ctx: CommandContext, remote: AgentClient, name: string): Promise<number> {
  const catalog = await remote.request('GET', '/v1/actions');
  if (catalog.status !== 200) throw errorFromBody(catalog.status, catalog.body);
  const entry = catalogEntry(
    catalog.body.actions as {
      name: string;
      version: string;
      risk: string;
      input_schema: Record<string, unknown>;
    }[],
    name,
  );
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
  // --follow of an action the agent answered at once (not long-running, so there was no stream to follow): its
  // progress and log lines as the agent stored them, shown once the answer is in, as an in-process run shows them.
  // Best effort: all of them or none (then the answer's output is printed), never a failure of a run that succeeded.
  const replay = async (executionId: string) => {
    const events: { type: string; data: Record<string, unknown> }[] = [];
    try {
      for await (const event of remote.events(executionId, 0, undefined, { follow: false }))
        if (STREAMED.has(event.event))
          events.push({ type: event.event, data: JSON.parse(event.data) as Record<string, unknown> });
    } catch {
      return;
    }
    for (const event of events) {
      printEvent(ctx, event.type, event.data);
      if (event.type === 'log') streamedLines++;
    }
  };
  return finish(
    ctx,
    request,
    { risk: entry.risk, inputSchema: entry.input_schema },
    (req) => sendRemote(ctx, remote, req),
    () => streamedLines > 0,
    follow,
    replay,
  );
}
