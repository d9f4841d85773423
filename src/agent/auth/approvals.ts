import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { ActionExecutor } from '../execute/execute.ts';
import { targetText } from '../execute/target-text.ts';
import type { AuditRecord, AuditSink, PolicyAnswer } from '../execute/types.ts';
import type { Confirmations, PendingConfirmation } from './confirmations.ts';
import type { Principal } from './principal.ts';

/** What an approval answers: the confirmation it approved, what that request runs, and who approved it. */
export type Approval = PendingConfirmation & { approved: true; approved_by: string; repeated?: true };

/** DVM_REQUEST_INVALID for a request that names no confirmation. */
export function confirmationRequired(): DvmError {
  return new DvmError('DVM_REQUEST_INVALID', 'confirmation_token or confirmation_id is required', {
    fix: 'Send {"confirmation_token": "dvmc_…"} from the 428 challenge, or {"confirmation_id": "…"} from GET /v1/confirmations.',
    path: 'confirmation_token',
  });
}

// DVM_FORBIDDEN for an approver that could not run the request itself.
function approverNotPermitted(
  approver: Principal,
  pending: PendingConfirmation,
  answer: PolicyAnswer,
): DvmError {
  return new DvmError(
    'DVM_FORBIDDEN',
    `${approver.name} may not approve ${pending.action} in ${String(pending.target?.env)}: the policy would not let ${approver.name} run it (${answer.reasons.join('; ') || 'denied'})`,
    {
      fix: `Ask a principal whose role may run ${pending.action} there to approve it (dvm policy test shows who may).`,
      details: { reason: 'approver-not-permitted', policy_ids: answer.policyIds, reasons: answer.reasons },
    },
  );
}

/**
 * A second principal approves a pending confirmation, named by its token or its id. Every attempt is audited — approved (`allowed`) or
 * refused (`denied`, with the reason) — with the action, version, target, params and request id it was for, and
 * the owners of requester and approver (a second reason), so an auditor sees two people were involved.
 */
export async function approveConfirmation(
  deps: { confirmations: Confirmations; audit: AuditSink; executor: Pick<ActionExecutor, 'permits'> },
  ref: unknown,
  approver: Principal,
): Promise<Approval> {
  const known = deps.confirmations.describe(ref);
  const owners = `${known ? `requester owner ${known.requester_owner}, ` : ''}approver owner ${approver.owner}`;
  const entry = (outcome: Pick<AuditRecord, 'decision' | 'reasons' | 'error'>): AuditRecord => ({
    at: new Date().toISOString(),
    actor: approver.name,
    via: approver.via,
    principal: approver.id,
    operation: 'approve',
    ...(known?.action
      ? {
          action: known.action,
          version: known.version,
          env: known.target?.env as string | undefined,
          target: known.target ? targetText(known.target as { env: string }) : undefined,
          requestId: known.request_id,
          params: known.params,
        }
      : {}),
    ...outcome,
  });
  try {
    if (typeof ref !== 'string') throw confirmationRequired();
    // A second principal vouches for the run: one the policy would not let run it (an operator, for an admin's
    // destructive action) cannot approve it either.
    // The approver vouches for a run through the requester's channel (a local exec, say), not its own.
    const pending = deps.confirmations.pending(ref);
    const own = deps.executor.permits({ ...approver, via: deps.confirmations.requesterVia(ref) }, pending);
    if (own.decision === 'deny') throw approverNotPermitted(approver, pending, own);
    const approved = deps.confirmations.approve(ref, approver);
    await deps.audit.append(
      entry({
        decision: 'allowed',
        reasons: [
          approved.repeated
            ? `approved again the confirmation requested by ${approved.requested_by}: already approved by this principal, nothing changed`
            : `approved the confirmation requested by ${approved.requested_by}`,
          owners,
        ],
      }),
    );
    return { approved: true, ...approved };
  } catch (error) {
    const e = isDvmError(error) ? error : new DvmError('DVM_INTERNAL', (error as Error).message);
    const reason = (e.details as { reason?: string }).reason ?? e.code;
    await deps.audit.append(
      entry({
        decision: 'denied',
        reasons: [
          `refused to approve the confirmation${known ? ` requested by ${known.requested_by}` : ''}: ${reason}`,
          owners,
        ],
        error: { code: e.code, message: e.message },
      }),
    );
    throw e;
  }
}
