import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEntry, AuditPage } from '../../agent/audit/audit-log.ts';
import type { AuditFilters } from '../../agent/audit/audit-query.ts';
import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import type { CommandContext } from '../command.ts';
import { outputChoice } from '../output/output-choice.ts';
import { renderTable } from '../output/table.ts';

/** Where `dvm audit` reads pages from: the home's agent database, or a remote agent's `GET /v1/audit`. */
export interface AuditSource {
  page(filters: AuditFilters): Promise<AuditPage>;
  /** How often --follow asks for new entries. */
  pollMs: number;
}

/** Pages from a remote agent (`GET /v1/audit`, admin token). */
export function remoteAuditSource(remote: AgentClient): AuditSource {
  return {
    pollMs: 1000,
    async page(filters) {
      const query = new URLSearchParams(
        Object.entries(filters).flatMap(([key, value]) =>
          value === undefined ? [] : [[key, String(value)] as [string, string]],
        ),
      ).toString();
      const response = await remote.request('GET', `/v1/audit${query ? `?${query}` : ''}`);
      if (response.status !== 200) throw errorFromBody(response.status, response.body);
      return response.body as unknown as AuditPage;
    },
  };
}

const HEADERS = ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'DECISION', 'ENV', 'REQUEST'];
// Column widths of rows printed as they come (--follow), where a table cannot be measured first.
const FOLLOW_WIDTHS = [7, 20, 14, 26, 21, 8];

function cellsOf(e: AuditEntry): string[] {
  return [
    String(e.seq),
    e.at.replace(/\.\d+Z$/, 'Z'),
    e.actor,
    actionCell(e),
    e.decision,
    e.env ?? '',
    e.requestId ?? '',
  ];
}

// The ACTION cell: an approval or a cancel names the action it was about and says it did not run it; so does a dry
// run (its decision is the one the run would get, but nothing ran).
function actionCell(e: AuditEntry): string {
  if (e.operation) return `${e.action ?? '?'} (${e.operation})`;
  if (e.dryRun) return `${e.action ?? '?'} (dry run)`;
  return e.action ?? e.route ?? '';
}

function followLine(cells: string[]): string {
  return `${cells
    .map((c, i) => (i < FOLLOW_WIDTHS.length ? c.padEnd(FOLLOW_WIDTHS[i] - 1) : c))
    .join(' ')
    .trimEnd()}\n`;
}

/**
 * `dvm audit [filters]`: one page of entries, oldest first (a table, or the page with -o json); with --follow, every
 * entry from --after/--since on — or only new ones, from the log's end — as it is written (a row, or a JSON line).
 */
export async function listAudit(
  ctx: CommandContext,
  source: AuditSource,
  filters: AuditFilters,
): Promise<number> {
  // -o yaml, wide or name is refused (DVM_USAGE) before anything is read, as by every other agent command.
  const json = outputChoice(ctx, ['table', 'json'], 'dvm audit') === 'json';
  if (!ctx.flags.follow) {
    const page = await source.page(filters);
    if (json) ctx.io.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
    else if (page.items.length === 0) ctx.io.stdout.write('No audit entries.\n');
    else ctx.io.stdout.write(renderTable(HEADERS, page.items.map(cellsOf)));
    if (page.next) ctx.io.stderr.write(`more entries: the next page is --after ${page.next}\n`);
    return 0;
  }
  const { tail, ...following } = filters;
  let after = filters.after;
  if (!json) ctx.io.stdout.write(followLine(HEADERS));
  if (tail !== undefined) {
    // The newest entries first (as tail -n -f), then what comes after them.
    const last = await source.page(filters);
    for (const entry of last.items)
      ctx.io.stdout.write(json ? `${JSON.stringify(entry)}\n` : followLine(cellsOf(entry)));
    after = last.items.at(-1)?.seq ?? last.head;
  } else if (after === undefined && filters.since === undefined) {
    after = (await source.page({ ...filters, limit: 1 })).head;
    ctx.io.stderr.write(`following the audit log after entry ${after} (Ctrl-C stops)\n`);
  }
  for (;;) {
    const page = await source.page({ ...following, after });
    for (const entry of page.items)
      ctx.io.stdout.write(json ? `${JSON.stringify(entry)}\n` : followLine(cellsOf(entry)));
    if (page.items.length > 0) after = page.items[page.items.length - 1].seq;
    if (!page.next) await sleep(source.pollMs);
  }
}
