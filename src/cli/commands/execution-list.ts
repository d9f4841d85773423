import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import type {
  ExecutionFilters,
  ExecutionPage,
  ExecutionSummary,
} from '../../agent/execute/execution-query.ts';
import type { FlagName } from '../args.ts';
import type { CommandContext } from '../command.ts';
import { withLocalAgent } from '../local-agent.ts';
import { formatDuration } from '../output/run-view.ts';
import { renderTable } from '../output/table.ts';

/** Usage of `dvm execution list`, as a line of a `Usage:` block (indented by two, as `dvm action --help` is). */
export const EXECUTION_LIST_USAGE = `dvm execution list [--action ACTION] [--status running|succeeded|failed|interrupted]
                     [--env ENV] [--principal token/ID|local] [--since 1h|TIME] [--until TIME]
                     [--limit N] [--before ID] [--server URL] [-o table|json]`;

/** Flags of `dvm execution list`. */
export const EXECUTION_LIST_FLAGS = [
  'action',
  'status',
  'env',
  'principal',
  'since',
  'until',
  'limit',
  'before',
  'server',
  'retries',
  'output',
] as const satisfies readonly FlagName[];

// The flags as the API's query parameters (only those given).
function filtersOf(ctx: CommandContext): Record<string, string> {
  const { action, status, env, principal, since, until, limit, before } = ctx.flags;
  const filters: ExecutionFilters = { action, status, env, principal, since, until, limit, before };
  return Object.fromEntries(
    Object.entries(filters).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

// An execution's run time: to its end, or so far while it runs; unknown for one whose process died.
function durationOf(execution: ExecutionSummary, now: number): string {
  if (execution.status === 'interrupted') return '-';
  const end = execution.finished_at ? Date.parse(execution.finished_at) : now;
  return formatDuration(Math.max(0, end - Date.parse(execution.created_at)));
}

async function localPage(ctx: CommandContext, filters: ExecutionFilters): Promise<ExecutionPage> {
  const { checkExecutionFilters } = await import('../../agent/execute/execution-query.ts');
  // Bad flags are refused before the agent database is opened.
  const checked = checkExecutionFilters(filters, new Date());
  return withLocalAgent(ctx, async (agent) => agent.executions.list(checked));
}

/**
 * `dvm execution list`: the agent's executions, newest first, filtered by the flags — from a remote agent with
 * `remote` (the token's own executions; an admin's sees all), else in-process as the local admin (all of them).
 */
export async function listExecutions(ctx: CommandContext, remote: AgentClient | undefined): Promise<number> {
  const filters = filtersOf(ctx);
  let page: ExecutionPage;
  if (remote) {
    const query = new URLSearchParams(filters).toString();
    const response = await remote.request('GET', `/v1/executions${query ? `?${query}` : ''}`);
    if (response.status !== 200) throw errorFromBody(response.status, response.body);
    page = response.body as unknown as ExecutionPage;
  } else {
    page = await localPage(ctx, filters);
  }
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
    return 0;
  }
  if (page.items.length === 0) {
    ctx.io.stdout.write('No executions.\n');
    return 0;
  }
  const now = Date.now();
  ctx.io.stdout.write(
    renderTable(
      ['ID', 'ACTION', 'STATUS', 'ENV', 'STARTED', 'DURATION'],
      page.items.map((e) => [
        e.id,
        e.action,
        e.status,
        e.env ?? '',
        e.created_at.replace(/\.\d+Z$/, 'Z'),
        durationOf(e, now),
      ]),
    ),
  );
  if (page.next) {
    ctx.io.stderr.write(
      `more executions: the next page is --before ${page.next} (or narrow with --since/--until, or raise --limit up to 1000)\n`,
    );
  }
  return 0;
}
