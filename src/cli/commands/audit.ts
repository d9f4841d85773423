import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { AuditLog } from '../../agent/audit/audit-log.ts';
import type { AgentClient } from '../../agent/client/agent-client.ts';
import { targetText } from '../../agent/execute/target-text.ts';
import { agentDbPath, openAgentDb } from '../../agent/store/agent-db.ts';
import { GroupCommitter } from '../../agent/store/group-commit.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Command, CommandContext } from '../command.ts';
import { outputChoice } from '../output/output-choice.ts';
import { anchorsOfFile, anchorsOfFlags, distinctAnchors } from './audit-anchors.ts';
import { listAudit, remoteAuditSource } from './audit-list.ts';

const USAGE = `Usage:
  dvm audit [--actor NAME] [--owner PERSON] [--action ACTION] [--route 'METHOD /PATH'] [--decision D] [--env ENV]
            [--target KEY=VALUE …] [--request-id ID] [--since 1h|TIME] [--until TIME] [--limit N]
            [--after SEQ | --tail N] [--follow] [--server URL] [-o table|json]
  dvm audit verify [--anchor SEQ:HASH …] [--anchor-file FILE …] [-o json]
  dvm audit export [-f FILE] [filters as above; --limit caps the export]

The agent's audit log: every decision of the one execution path (allowed, denied, confirmation_required,
executed, failed), from the API and from \`dvm action run\`, oldest first. Entries are SHA-256 hash-chained:
verify recomputes the chain and names the first entry that was changed, removed or reordered, or how many are
missing at the end; it prints the chain head (last entry and its hash). Someone who can rewrite the whole
database and recompute every hash is not detected from inside it: keep the head elsewhere (dvm audit verify >>
a file on another machine) and pass it back later: --anchor SEQ:HASH, or --anchor-file FILE with what verify
printed, fails (DVM_AUDIT_TAMPERED) unless that entry still has that hash. export writes JSON lines (to stdout, or FILE). Secrets are redacted
before an entry is written. A request the API refused before it named an action (a missing token, a role too weak
for the route) shows its method and route where the action would be: --route 'GET /v1/audit' (or --action with the
same text) finds those.

--owner PERSON shows what every token of that owner did (dvm token create --owner), and local what the local
user did in-process.

--tail N shows the newest N matching entries (oldest of them first), as tail -n does; with --follow it shows them,
then follows. --follow prints entries as they are written (from the log's end, or from --after/--since), until Ctrl-C; -o json
makes them JSON lines. With --server URL (or DVM_SERVER) and an admin's DVM_TOKEN, queries and --follow ask a
remote agent (GET /v1/audit); verify and export read the database itself, on the agent's host.`;

// A --target value that reads like several pairs (`cluster=eu,zone=a`): one pair here, as `dvm action run --target`
// records it (the label cluster, "eu,zone=a"), so a note says how to ask for two (GET /v1/audit joins pairs with
// commas; dvm audit repeats the flag).
function noteCommaPairs(ctx: CommandContext, flags: readonly string[] | undefined): void {
  for (const flag of flags ?? []) {
    const pieces = flag.split(',');
    if (pieces.length > 1 && pieces.every((piece) => piece.indexOf('=') > 0))
      ctx.io.stderr.write(
        `note: --target ${flag} is one pair (${flag.slice(0, flag.indexOf('='))} = "${flag.slice(flag.indexOf('=') + 1)}"), as dvm action run --target records it; for ${pieces.length} pairs, repeat the flag: ${pieces.map((p) => `--target ${p}`).join(' ')}\n`,
      );
  }
}

function filtersOf(ctx: CommandContext) {
  const target = ctx.flags.target;
  noteCommaPairs(ctx, target);
  for (const pair of target ?? []) {
    if (pair.indexOf('=') <= 0)
      throw new DvmError('DVM_USAGE', `--target "${pair}" is not KEY=VALUE`, {
        fix: 'Write e.g. --target env=prod (repeat it for more pairs: entries must hold every one, in any order).',
      });
  }
  return {
    actor: ctx.flags.actor,
    owner: ctx.flags.owner,
    action: ctx.flags.action,
    route: ctx.flags.route,
    decision: ctx.flags.decision,
    env: ctx.flags.env,
    // Repeated --target KEY=VALUE flags, each written as entries show it (a repeated key is two pairs to hold).
    ...(target?.length
      ? {
          target: target
            .map((p) =>
              targetText({ [p.slice(0, p.indexOf('='))]: p.slice(p.indexOf('=') + 1) } as { env: string }),
            )
            .join(','),
        }
      : {}),
    ...(ctx.flags['request-id'] !== undefined ? { requestId: ctx.flags['request-id'] } : {}),
    since: ctx.flags.since,
    until: ctx.flags.until,
    limit: ctx.flags.limit,
    after: ctx.flags.after,
    tail: ctx.flags.tail,
  };
}

// The filters of a query (and of an export).
const QUERY_FLAGS = [
  'actor',
  'owner',
  'action',
  'route',
  'decision',
  'env',
  'target',
  'request-id',
  'since',
  'until',
  'limit',
  'after',
  'tail',
] as const;

// Flags of the queries that verify (of the whole chain) does not take.
const VERIFY_IGNORES = [...QUERY_FLAGS, 'filename'] as const;

/** `dvm audit [verify|export]`: query, verify and export the agent's hash-chained audit log. */
export const command: Command = {
  summary: "Query, verify or export the agent's audit log",
  usage: USAGE,
  flags: [...QUERY_FLAGS, 'follow', 'server', 'retries', 'output', 'filename', 'anchor', 'anchor-file'],
  maxArgs: 1,
  async run(ctx) {
    const [sub] = ctx.positionals;
    const anchorFlag = (['anchor', 'anchor-file'] as const).find((flag) => ctx.flags[flag] !== undefined);
    if (anchorFlag && sub !== 'verify') {
      throw new DvmError(
        'DVM_USAGE',
        `--${anchorFlag} is a flag of dvm audit verify, not of dvm audit${sub ? ` ${sub}` : ''}`,
        { fix: 'Run dvm audit verify --anchor SEQ:HASH (or --anchor-file FILE).' },
      );
    }
    if (ctx.flags.filename !== undefined && sub !== 'export') {
      throw new DvmError(
        'DVM_USAGE',
        `-f is a flag of dvm audit export, not of dvm audit${sub ? ` ${sub}` : ''}`,
        {
          fix: 'Run dvm audit export -f FILE [filters] to write entries to a file.',
        },
      );
    }
    if (ctx.flags.follow && sub !== undefined) {
      throw new DvmError('DVM_USAGE', `--follow is a flag of dvm audit, not of audit ${sub}`, {
        fix: 'Run dvm audit --follow [filters].',
      });
    }
    const server = ctx.flags.server ?? ctx.io.env.DVM_SERVER;
    if (server) {
      if (sub !== undefined) {
        throw new DvmError(
          'DVM_USAGE',
          `dvm audit ${sub} reads the agent database itself, not a remote agent`,
          {
            fix: `Run it on the agent's host without --server (or DVM_SERVER); remotely, page with dvm audit --after.`,
          },
        );
      }
      const { remoteAgent } = await import('../remote-agent.ts');
      return listAudit(ctx, remoteAuditSource(remoteAgent(ctx) as AgentClient), filtersOf(ctx));
    }
    const db = openAgentDb(agentDbPath(ctx.home));
    try {
      const audit = new AuditLog(db, { writer: new GroupCommitter(db) });
      if (sub === 'verify') {
        // The chain is verified whole: a filter would suggest a part could be.
        const filter = VERIFY_IGNORES.find((flag) => ctx.flags[flag] !== undefined);
        if (filter)
          throw new DvmError(
            'DVM_USAGE',
            `dvm audit verify checks the whole chain: --${filter} does not apply`,
            {
              fix: 'Run dvm audit verify alone (-o json for a JSON report); dvm audit [filters] queries entries.',
            },
          );
        const output = outputChoice(ctx, ['text', 'json'], 'dvm audit verify');
        const files = (ctx.flags['anchor-file'] ?? []).map((file) => anchorsOfFile(file));
        const anchors = distinctAnchors([
          ...anchorsOfFlags(ctx.flags.anchor ?? []),
          ...files.flatMap((read) => read.anchors),
        ]);
        const skippedFailed = files.reduce((sum, read) => sum + read.skippedFailed, 0);
        const report = audit.verify(anchors);
        const anchorCounts = {
          given: anchors.length,
          matched: report.anchored ?? 0,
          ...(skippedFailed ? { skipped_failed_reports: skippedFailed } : {}),
        };
        if (!report.ok) {
          // A script reading -o json gets the report on stdout (and the coded error on stderr, exit 1) either way.
          if (output === 'json')
            ctx.io.stdout.write(
              `${JSON.stringify({ ok: false, brokenAt: report.brokenAt, reason: report.reason, entries: report.entries, head: report.head ?? null, anchors: anchorCounts })}\n`,
            );
          throw new DvmError(
            'DVM_AUDIT_TAMPERED',
            `audit chain broken at entry ${report.brokenAt}: ${report.reason} (${report.entries} entries before it verified)`,
            {
              fix: 'Treat the log from that entry on as untrusted; restore agent.db from a backup to investigate.',
              details: {
                brokenAt: report.brokenAt,
                verified: report.entries,
                head: report.head,
                anchors: anchorCounts,
              },
            },
          );
        }
        if (output === 'json') {
          ctx.io.stdout.write(
            `${JSON.stringify({ ok: true, entries: report.entries, head: report.head ?? null, anchors: anchorCounts })}\n`,
          );
          return 0;
        }
        ctx.io.stdout.write(`audit chain intact: ${report.entries} entries\n`);
        if (anchors.length > 0)
          ctx.io.stdout.write(
            `# anchors: ${report.anchored} of ${anchors.length} matched${skippedFailed ? ` (${skippedFailed} report(s) of failed verifies passed over)` : ''}\n`,
          );
        if (report.head) ctx.io.stdout.write(`head: entry ${report.head.seq} ${report.head.hash}\n`);
        return 0;
      }
      if (sub === 'export') {
        // An export is JSON lines whatever -o says: any other form is refused, not silently ignored.
        outputChoice(ctx, ['json'], 'dvm audit export');
        if ((ctx.flags.filename?.length ?? 0) > 1)
          throw new DvmError('DVM_USAGE', 'dvm audit export writes one file: -f is given more than once', {
            fix: 'Give -f once (run the export again for another copy).',
          });
        const file = ctx.flags.filename?.[0];
        // The filters are checked (and the first page read) before the file is opened: a refused export never
        // empties a file it would have written, perhaps the kept evidence of an earlier one.
        const lines = audit.exportJsonl(filtersOf(ctx));
        const first = lines.next();
        const out = file ? createWriteStream(file) : undefined;
        for (let next = first; !next.done; next = lines.next()) {
          if (!out) ctx.io.stdout.write(next.value);
          else if (!out.write(next.value)) await once(out, 'drain');
        }
        if (out) {
          out.end();
          await once(out, 'finish');
        }
        return 0;
      }
      if (sub !== undefined) {
        throw new DvmError('DVM_USAGE', `unknown subcommand "audit ${sub}"`, {
          fix: 'Use dvm audit, dvm audit verify or dvm audit export.',
        });
      }
      return await listAudit(
        ctx,
        { page: async (filters) => audit.query(filters), pollMs: 500 },
        filtersOf(ctx),
      );
    } finally {
      db.close();
    }
  },
};
