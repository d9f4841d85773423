import type { ErrorCode } from '../../errors/codes.ts';

/**
 * The refusals a client may send again unchanged (nothing ran, or a repeated request_id is answered from its key),
 * with the seconds the agent's Retry-After header asks it to wait first.
 */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  DVM_AGENT_STOPPING: 1,
  DVM_STORE_UNAVAILABLE: 1,
  DVM_TOO_MANY_RUNNING: 2,
  // The least: the rate limiter sets the time until the principal's next token.
  DVM_RATE_LIMITED: 1,
};

/** The Retry-After seconds of an error code, or undefined when a retry would not help. */
export function retryAfterSeconds(code: unknown): number | undefined {
  return typeof code === 'string' ? RETRY_AFTER_SECONDS[code as ErrorCode] : undefined;
}
