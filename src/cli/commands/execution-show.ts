import type { Agent } from '../../agent/agent.ts';
import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import type { ExecutionEvent, ExecutionRecord } from '../../agent/execute/executions.ts';
import { targetText } from '../../agent/execute/target-text.ts';
import type { ExecuteRequest } from '../../agent/execute/types.ts';
import type { CommandContext } from '../command.ts';
import { withLocalAgent } from '../local-agent.ts';
import { terminalText } from '../terminal-text.ts';
import { type FollowedEvent, followRemote, printEvent, STREAMED } from './action-events.ts';

const ENDS = new Set(['completed', 'failed']);

async function fetchExecution(remote: AgentClient, id: string): Promise<ExecutionRecord> {
  const response = await remote.request('GET', `/v1/executions/${encodeURIComponent(id)}`);
  if (response.status !== 200) throw errorFromBody(response.status, response.body);
  return response.body as unknown as ExecutionRecord;
}

function durationOf(record: ExecutionRecord): string {
  if (!record.finished_at) return '';
  return ` (${Date.parse(record.finished_at) - Date.parse(record.created_at)} ms)`;
}

// The target as audit entries show it (`env=prod,cluster=eu`).
function targetOf(record: ExecutionRecord): string {
  return targetText((record.target ?? { env: record.env }) as ExecuteRequest['target']);
}

// `CODE: message` of an execution's error.
function errorText(error: Record<string, unknown> | undefined): string {
  return error ? `${error.code ?? 'DVM_INTERNAL'}: ${error.message ?? ''}` : '';
}

function printRecord(ctx: CommandContext, record: ExecutionRecord): void {
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return;
  }
  const rows: [string, string | undefined][] = [
    ['execution', record.id],
    ['action', `${record.action}@${record.version}`],
    ['status', record.status],
    ['target', targetOf(record)],
    ['request', record.request_id],
    ['principal', record.principal],
    ['started', record.created_at],
    ['finished', record.finished_at ? `${record.finished_at}${durationOf(record)}` : undefined],
    ['error', record.error ? errorText(record.error) : undefined],
  ];
  // Each header on one line as written: a target label or an error message cannot forge lines or move the cursor.
  for (const [key, value] of rows)
    if (value !== undefined) ctx.io.stdout.write(`${`${key}:`.padEnd(11)}${terminalText(value)}\n`);
  const result = record.result as { summary?: unknown; artifact?: { content?: string } } | undefined;
  if (result === undefined || result === null) return;
  if (typeof result === 'object' && 'summary' in result) {
    const summary = JSON.stringify(result.summary, null, 2);
    ctx.io.stdout.write(`summary:\n${summary}\n`);
    // The raw output, unless it is the summary once more (system.info).
    const content = result.artifact?.content;
    if (content && content.trim() !== summary)
      ctx.io.stdout.write(`output:\n${content.endsWith('\n') ? content : `${content}\n`}`);
  } else {
    ctx.io.stdout.write(`result:\n${JSON.stringify(result, null, 2)}\n`);
  }
}

/** `dvm execution get ID`: one execution's status, target, times and result, from the agent or the home. */
export async function showExecution(
  ctx: CommandContext,
  remote: AgentClient | undefined,
  id: string,
): Promise<number> {
  const record = remote
    ? await fetchExecution(remote, id)
    : await withLocalAgent(ctx, async (agent) => agent.executions.get(id));
  printRecord(ctx, record);
  return 0;
}

// Prints one event of `dvm execution logs`: every event as a JSON line with -o json, else the streamed ones.
function printLogEvent(ctx: CommandContext, event: FollowedEvent): void {
  if (ctx.flags.output === 'json')
    ctx.io.stdout.write(`${JSON.stringify({ id: event.id, type: event.type, ...event.data })}\n`);
  else if (STREAMED.has(event.type)) printEvent(ctx, event.type, event.data);
}

// The last line of `dvm execution logs` (stderr, not with -o json): how the execution ended, or that it still runs.
function printEnd(ctx: CommandContext, id: string, end: FollowedEvent | undefined): void {
  if (ctx.flags.output === 'json') return;
  const shown = terminalText(id);
  if (!end) ctx.io.stderr.write(`execution ${shown} is still running (-f follows it to its end)\n`);
  else if (end.type === 'completed') ctx.io.stderr.write(`execution ${shown} succeeded\n`);
  else
    ctx.io.stderr.write(
      `execution ${shown} failed: ${terminalText(errorText(end.data.error as Record<string, unknown> | undefined))}\n`,
    );
}

/**
 * `dvm execution logs ID [-f]`: the events of an execution so far (log lines, progress), or with --follow until it
 * ends, from the agent's event stream or, without a server, from the home's agent database.
 */
export async function executionLogs(
  ctx: CommandContext,
  remote: AgentClient | undefined,
  id: string,
): Promise<number> {
  let end: FollowedEvent | undefined;
  const onEvent = (event: FollowedEvent) => {
    if (ENDS.has(event.type)) end = event;
    printLogEvent(ctx, event);
  };
  if (remote && ctx.flags.follow) {
    const answer = await followRemote(ctx, remote, id, onEvent);
    // A follow the agent ended before the execution's end (the token revoked or expired, the execution gone or
    // interrupted) says why, never that it still runs.
    if (!end && answer.status >= 400) throw errorFromBody(answer.status, answer.body);
  } else if (remote) {
    let last = 0;
    for await (const event of remote.events(id, 0, undefined, { follow: false })) {
      if (event.id && /^\d+$/.test(event.id)) last = Number(event.id);
      onEvent({ id: last, type: event.event, data: JSON.parse(event.data) as Record<string, unknown> });
    }
  } else {
    await withLocalAgent(ctx, (agent) => followLocal(ctx, agent, id, onEvent));
  }
  printEnd(ctx, id, end);
  return 0;
}

// Replays an execution's stored events; with --follow, reads new ones until it ends. The process running it may
// be another one (`dvm serve` on this home, a `dvm action run`): its events are read from the database as they are
// stored (every 300 ms), and one whose process died ends `interrupted`.
async function followLocal(
  ctx: CommandContext,
  agent: Agent,
  id: string,
  onEvent: (event: FollowedEvent) => void,
): Promise<void> {
  const hand = (event: ExecutionEvent) =>
    onEvent({ id: event.id, type: event.type, data: { ...event.data, at: event.at } });
  if (!ctx.flags.follow) {
    agent.executions.subscribe(id, 0, hand, () => {})();
    return;
  }
  await new Promise<void>((resolve) => agent.executions.subscribe(id, 0, hand, resolve));
}
