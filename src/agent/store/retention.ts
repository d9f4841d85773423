import type { DatabaseSync } from 'node:sqlite';
import { parseDuration } from '../../actions/builtin/duration.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { statement } from './statements.ts';

/** How many executions one prune transaction removes (with their events and request ids) before it yields. */
export const PRUNE_BATCH = 1000;

/**
 * How long the agent keeps ended executions (with their events and request ids) and settled confirmations, from
 * config.yaml `agent.retention` (its value, read by agentSettings: a duration such as `30d`): its milliseconds
 * and text. DVM_SCHEMA_INVALID (file, path) when it is not a positive duration.
 */
export function retentionSetting(value: unknown, file: string): { ms: number; text: string } {
  let ms = 0;
  try {
    ms = typeof value === 'string' ? parseDuration(value) : 0;
  } catch (error) {
    if (!isDvmError(error)) throw error;
  }
  if (ms <= 0) {
    throw new DvmError(
      'DVM_SCHEMA_INVALID',
      `agent.retention must be a positive duration of at most 100 years, not ${JSON.stringify(value)}`,
      {
        file,
        path: 'agent.retention',
        fix: 'Write how long ended executions are kept, e.g.\nagent:\n  retention: 30d',
      },
    );
  }
  return { ms, text: value as string };
}

/** What one prune removed. */
export interface PruneReport {
  executions: number;
  requestIds: number;
  confirmations: number;
}

// Execution ids start with `x` and the creation time in base 36 (newExecutionId), so "created before" is a range
// of the primary key: no scan, no extra index on a table every request writes.
function idBefore(cutoff: Date): string {
  return `x${cutoff.getTime().toString(36)}`;
}

/**
 * Deletes up to PRUNE_BATCH executions created before `cutoff` that have ended, with their events and the request
 * ids they answered, in one transaction; on the first batch also the confirmations that expired before it.
 * Running executions, and request ids still waiting for an answer with their executions, stay. The audit log is never touched.
 */
export function pruneBatch(db: DatabaseSync, cutoff: Date, first: boolean): PruneReport {
  const report: PruneReport = { executions: 0, requestIds: 0, confirmations: 0 };
  const old = statement(
    db,
    // An execution whose request id is not answered yet stays with it: the reaper answers the id from the
    // execution's end (its result or error), which it could not once the execution were gone.
    `SELECT e.id, e.principal, e.request_id FROM executions e
     WHERE e.id < ? AND e.status <> 'running'
       AND NOT EXISTS (SELECT 1 FROM idempotency i
                       WHERE i.principal = e.principal AND i.request_id = e.request_id AND i.status IS NULL)
     ORDER BY e.id LIMIT ${PRUNE_BATCH}`,
  );
  const deleteEvents = statement(db, 'DELETE FROM execution_events WHERE execution_id = ?');
  const deleteExecution = statement(db, 'DELETE FROM executions WHERE id = ?');
  const deleteKey = statement(
    db,
    'DELETE FROM idempotency WHERE principal = ? AND request_id = ? AND execution_id = ? AND status IS NOT NULL',
  );
  db.exec('BEGIN IMMEDIATE');
  try {
    const rows = old.all(idBefore(cutoff)) as { id: string; principal: string; request_id: string | null }[];
    for (const row of rows) {
      deleteEvents.run(row.id);
      deleteExecution.run(row.id);
      report.executions++;
      if (row.request_id)
        report.requestIds += Number(deleteKey.run(row.principal, row.request_id, row.id).changes);
    }
    if (first) {
      report.confirmations = Number(
        statement(db, 'DELETE FROM confirmations WHERE expires_at < ?').run(cutoff.toISOString()).changes,
      );
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
  return report;
}

/**
 * Prunes everything older than `retentionMs` in batches, yielding to the event loop between them (requests go on
 * while a large backlog is deleted); resolves with the totals.
 */
export async function pruneAgentData(
  db: DatabaseSync,
  retentionMs: number,
  now = new Date(),
): Promise<PruneReport> {
  const cutoff = new Date(now.getTime() - retentionMs);
  const total: PruneReport = { executions: 0, requestIds: 0, confirmations: 0 };
  for (let first = true; ; first = false) {
    const batch = pruneBatch(db, cutoff, first);
    total.executions += batch.executions;
    total.requestIds += batch.requestIds;
    total.confirmations += batch.confirmations;
    if (batch.executions < PRUNE_BATCH) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
