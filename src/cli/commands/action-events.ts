import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '../../agent/client/agent-client.ts';
import type { ExecuteResponse } from '../../agent/execute/types.ts';
import { ERROR_CODES, type ErrorCode } from '../../errors/codes.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { CommandContext } from '../command.ts';
import { terminalLines } from '../terminal-text.ts';

// How long --follow keeps trying to resume a broken stream, and how often.
const FOLLOW_RECONNECT_MS = 15_000;
const FOLLOW_RETRY_MS = 500;
// Answers after which a follow connects again: a lost connection, and an agent at agent.limits.streams or
// .connections, which is asked again after its Retry-After (at most 2 s), not sooner.
const RESUMABLE = new Set(['DVM_CONNECTOR_UNAVAILABLE', 'DVM_TOO_MANY_STREAMS', 'DVM_AGENT_BUSY']);
const BUSY_RETRY_MS = 2000;

/** Events --follow prints as they come (the end is printed from the result). */
export const STREAMED = new Set(['log', 'progress', 'truncated']);

/** Prints one streamed event: log lines on stdout/stderr, progress and truncation on stderr; JSON lines with -o json. */
export function printEvent(ctx: CommandContext, type: string, data: Record<string, unknown>): void {
  if (ctx.flags.output === 'json') ctx.io.stdout.write(`${JSON.stringify({ type, ...data })}\n`);
  else if (type === 'log') (data.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout).write(`${data.line}\n`);
  else if (type === 'progress')
    ctx.io.stderr.write(
      `… ${terminalLines(data.message)}${data.percent !== undefined ? ` (${data.percent}%)` : ''}\n`,
    );
  else if (type === 'truncated')
    ctx.io.stderr.write(
      `… output past ${data.max_bytes} bytes is not streamed; the result keeps its last ${data.max_bytes} bytes (dvm execution get shows them)\n`,
    );
}

/** One event of an execution's stream as a follower hands it on: id, type and data (with `at`). */
export type FollowedEvent = { id: number; type: string; data: Record<string, unknown> };

/**
 * Hands an execution's events to `onEvent` (by default: prints the streamed ones — log lines, progress) until it
 * ends, resuming a stream that broke off, and answers the execution's outcome in the shape of an execute answer.
 * Ctrl-C stops following (exit 130), not the execution: the agent runs it on, and dvm says how to cancel it.
 */
export async function followRemote(
  ctx: CommandContext,
  remote: AgentClient,
  executionId: string,
  onEvent?: (event: FollowedEvent) => void,
): Promise<ExecuteResponse> {
  // Ctrl-C or SIGTERM (a `timeout`, a cancelled CI job) stops following, not the execution: said so, 130 or 143.
  const interrupted = (signal: NodeJS.Signals) => {
    ctx.io.stderr.write(
      `\nstopped following (${signal === 'SIGINT' ? 'Ctrl-C' : signal}); execution ${executionId} goes on in the agent: \`dvm execution cancel ${executionId}\` stops it, \`dvm execution logs ${executionId} -f\` follows it again\n`,
    );
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await followStream(ctx, remote, executionId, onEvent);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

async function followStream(
  ctx: CommandContext,
  remote: AgentClient,
  executionId: string,
  onEvent: (event: FollowedEvent) => void = (event) => {
    if (STREAMED.has(event.type)) printEvent(ctx, event.type, event.data);
  },
): Promise<ExecuteResponse> {
  // A stream that breaks off before the execution's end (the agent restarted, a proxy cut it) is resumed after
  // the last event received, like EventSource does, for up to FOLLOW_RECONNECT_MS without an answer.
  let last = 0;
  let ended = false;
  let lostSince: number | undefined;
  // The stream's first and last events say how it went: the outcome needs no further request (the agent may be
  // gone by then: a stop ends its executions, and their final events, before it exits).
  let started: Record<string, unknown> | undefined;
  let final: { type: string; data: Record<string, unknown> } | undefined;
  while (!ended) {
    let busy = false;
    try {
      // A stream the agent accepted is a connection regained, silent or not: a later break gets its own time.
      const opened = () => {
        lostSince = undefined;
      };
      for await (const event of remote.events(executionId, last, undefined, { onOpen: opened })) {
        if (event.id && /^\d+$/.test(event.id)) last = Number(event.id);
        const data = JSON.parse(event.data) as Record<string, unknown>;
        if (event.event === 'started') started = data;
        if (event.event === 'completed' || event.event === 'failed') {
          ended = true;
          final = { type: event.event, data };
        }
        onEvent({ id: last, type: event.event, data });
      }
      if (ended) break;
      // Ended without the execution's end: whether it still runs is asked below.
      const state = await remote.request('GET', `/v1/executions/${encodeURIComponent(executionId)}`);
      if (state.status !== 200 || state.body.status !== 'running') break;
    } catch (error) {
      // An answer the agent gave (401 for a revoked token, 404) ends the follow; a lost connection does not, nor an
      // agent that holds as many streams or connections as it may (it answers so before the stream starts).
      if (isDvmError(error) && !RESUMABLE.has(error.code)) throw error;
      lostSince ??= Date.now();
      if (Date.now() - lostSince > FOLLOW_RECONNECT_MS) {
        if (isDvmError(error) && error.code !== 'DVM_CONNECTOR_UNAVAILABLE') throw error;
        throw new DvmError(
          'DVM_CONNECTOR_UNAVAILABLE',
          `lost the connection to the agent while following execution ${executionId} (after event ${last}): ${(error as Error).message}`,
          {
            fix: `Check it once the agent is back: dvm execution get ${executionId}, or dvm execution logs ${executionId} -f to follow it again (its events resume after event ${last}).`,
            details: { execution_id: executionId, last_event_id: last },
          },
        );
      }
      busy = isDvmError(error) && error.code !== 'DVM_CONNECTOR_UNAVAILABLE';
    }
    if (!ended) await sleep(busy ? BUSY_RETRY_MS : FOLLOW_RETRY_MS);
  }
  if (final && started) return outcomeOf(executionId, started, final);
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
}

// An execution's outcome, in the shape of an execute answer, from its stream's `started` and final events.
function outcomeOf(
  executionId: string,
  started: Record<string, unknown>,
  final: { type: string; data: Record<string, unknown> },
): ExecuteResponse {
  if (final.type === 'failed') {
    const error = (final.data.error ?? {}) as Record<string, unknown>;
    const known = ERROR_CODES[error.code as ErrorCode] as { http?: number } | undefined;
    return { status: known?.http ?? 500, body: { ...error, execution_id: executionId } };
  }
  const at = (data: Record<string, unknown>) =>
    typeof data.at === 'string' ? Date.parse(data.at) : Number.NaN;
  const durationMs = at(final.data) - at(started);
  return {
    status: 200,
    body: {
      execution_id: executionId,
      status: 'succeeded',
      action: started.action,
      version: started.version,
      ...(Number.isFinite(durationMs) ? { duration_ms: durationMs } : {}),
      result: final.data.result,
    },
  };
}
