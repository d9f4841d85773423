import type { ErrorCode } from '../../errors/codes.ts';

/**
 * The refusals a client may send again unchanged (nothing ran, or a repeated request_id is answered from its key),
 * with the seconds the agent's Retry-After header asks it to wait first.
 */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  DVM_AGENT_STOPPING: 1,
  DVM_AGENT_BUSY: 1,
  DVM_STORE_UNAVAILABLE: 1,
  DVM_TOO_MANY_RUNNING: 2,
  DVM_TOO_MANY_STREAMS: 2,
  // The least: a refusal whose details say `retry_after_ms` (the rate limiter: until the next token) asks for that.
  DVM_RATE_LIMITED: 1,
};

/**
 * The Retry-After seconds of a refusal (its code, and its details' `retry_after_ms` when it has one), or undefined
 * when a retry would not help.
 */
export function retryAfterSeconds(code: unknown, details?: unknown): number | undefined {
  const seconds = typeof code === 'string' ? RETRY_AFTER_SECONDS[code as ErrorCode] : undefined;
  const ms = (details as { retry_after_ms?: unknown } | undefined)?.retry_after_ms;
  return seconds !== undefined && typeof ms === 'number' ? Math.max(seconds, Math.ceil(ms / 1000)) : seconds;
}
