import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { Principal } from '../auth/principal.ts';
import type { ExecutionRecord, Executions } from './executions.ts';

/**
 * The execution with this id as `principal` may see it: its own, or any for an admin; someone else's is
 * DVM_EXECUTION_NOT_FOUND exactly like a missing one.
 */
export function visibleExecution(executions: Executions, id: string, principal: Principal): ExecutionRecord {
  let record: ExecutionRecord | undefined;
  try {
    record = executions.get(id);
  } catch (error) {
    if (!isDvmError(error) || error.code !== 'DVM_EXECUTION_NOT_FOUND') throw error;
  }
  if (!record || (record.principal !== principal.id && principal.role !== 'admin')) {
    throw new DvmError('DVM_EXECUTION_NOT_FOUND', `no execution has the id "${id}"`, {
      fix: 'Use the execution_id an execute request of yours answered with.',
    });
  }
  return record;
}
