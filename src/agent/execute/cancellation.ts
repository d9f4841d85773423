import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { Principal } from '../auth/principal.ts';
import type { ActionExecutor } from './execute.ts';
import type { ExecutionRecord, Executions } from './executions.ts';
import { targetText } from './target-text.ts';
import type { AuditRecord, AuditSink } from './types.ts';
import { visibleExecution } from './visibility.ts';

/**
 * Cancels an execution for `by` (its own, or any for an admin; else DVM_EXECUTION_NOT_FOUND) and answers its
 * record once its end is committed. Only the process running it can stop it: one that ended is
 * DVM_EXECUTION_ENDED, one another process runs is DVM_EXECUTION_ELSEWHERE. Every attempt on an execution `by`
 * may see is audited — `allowed` when cancelled, `denied` with the reason when refused — with the execution's
 * action, version, target, request id and execution id; its own `failed` entry follows from its end.
 */
export async function cancelExecutionBy(
  deps: { executor: Pick<ActionExecutor, 'runs' | 'cancel'>; executions: Executions; audit: AuditSink },
  id: string,
  by: Principal,
): Promise<ExecutionRecord> {
  let record = visibleExecution(deps.executions, id, by);
  const entry = (outcome: Pick<AuditRecord, 'decision' | 'reasons' | 'error'>): AuditRecord => ({
    at: new Date().toISOString(),
    actor: by.name,
    via: by.via,
    principal: by.id,
    operation: 'cancel',
    action: record.action,
    version: record.version,
    env: record.env,
    target: record.target ? targetText(record.target as { env: string }) : undefined,
    requestId: record.request_id,
    executionId: record.id,
    ...outcome,
  });
  try {
    // Reaps it first when the process that ran it died: it then reads as ended (interrupted).
    const pid = deps.executions.runner(id);
    record = deps.executions.get(id);
    if (pid === undefined) throw ended(record);
    if (pid !== process.pid || !deps.executor.runs(id)) throw elsewhere(id, pid);
    // Queued before the abort, so the chain has the cancel before the `failed` end it causes.
    const allowed = deps.audit.append(entry({ decision: 'allowed', reasons: [`cancelled execution ${id}`] }));
    const cancelled = deps.executor.cancel(id, by);
    await allowed;
    return (await cancelled) ?? deps.executions.get(id);
  } catch (error) {
    const e = isDvmError(error) ? error : new DvmError('DVM_INTERNAL', (error as Error).message);
    await deps.audit.append(
      entry({
        decision: 'denied',
        reasons: [`refused to cancel execution ${id}: ${refusal(e)}`],
        error: { code: e.code, message: e.message },
      }),
    );
    throw e;
  }
}

// Why a cancel was refused, for the audit entry.
function refusal(error: DvmError): string {
  if (error.code === 'DVM_EXECUTION_ENDED') return `it already ended (${error.details.status})`;
  if (error.code === 'DVM_EXECUTION_ELSEWHERE') return `it runs in process ${error.details.pid}`;
  return error.code;
}

function ended(record: ExecutionRecord): DvmError {
  return new DvmError('DVM_EXECUTION_ENDED', `execution ${record.id} already ended: ${record.status}`, {
    fix: `Nothing to cancel; dvm execution get ${record.id} (GET /v1/executions/${record.id}) shows how it ended.`,
    details: { execution_id: record.id, status: record.status },
  });
}

function elsewhere(id: string, pid: number): DvmError {
  // The agent of a pipeline task in this very process (a job run by dvm serve) runs it, not this one.
  if (pid === process.pid) {
    return new DvmError(
      'DVM_EXECUTION_ELSEWHERE',
      `execution ${id} runs in a pipeline task of this process`,
      {
        fix: 'Cancel its run: `dvm cancel run RUN_ID` (`dvm get runs` lists them).',
        details: { execution_id: id, pid },
      },
    );
  }
  return new DvmError('DVM_EXECUTION_ELSEWHERE', `execution ${id} runs in another process (pid ${pid})`, {
    fix: `Stop it where it runs: Ctrl-C the \`dvm action run\` that started it (process ${pid}), or, when a \`dvm serve\` runs it, cancel it through that server: \`dvm execution cancel ${id} --server URL\`.`,
    details: { execution_id: id, pid },
  });
}
