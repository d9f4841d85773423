/**
 * When the agent's client sends a request again, and after how long. Only requests that are safe to repeat are
 * retried: reads, and an execute, whose request_id makes the agent answer a repeat with the first answer instead of
 * running it twice. Only failures that say nothing ran, or that the answer was lost, are retried.
 */

/** How many times, and how far apart, a safe request is sent again. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 turns retries off). */
  retries: number;
  /** The first backoff; each retry doubles it, up to `capMs`. */
  baseMs: number;
  capMs: number;
  /** A Retry-After longer than this is not waited for: the failure is reported instead. */
  maxRetryAfterMs: number;
}

/** Three retries, 250 ms doubling to at most 8 s: about 1.3 s in all before a down agent is reported. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 3,
  baseMs: 250,
  capMs: 8_000,
  maxRetryAfterMs: 30_000,
};

/** The most retries `--retries` accepts. */
export const MAX_RETRIES = 10;

// The agent's codes for a request it turned away (stopping, its connections used up, follow slots used up, over its
// rate) or could not record (the database failed): sent again with the same request_id, it is answered from its key if
// it ran, or runs once if it did not.
const RETRYABLE_CODES = new Set([
  'DVM_AGENT_STOPPING',
  'DVM_AGENT_BUSY',
  'DVM_STORE_UNAVAILABLE',
  'DVM_TOO_MANY_RUNNING',
  'DVM_RATE_LIMITED',
]);

// Connection failures (Node's and undici's codes) after which the request may or may not have arrived.
const RETRYABLE_CAUSES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Why an answer is worth sending the request again for, or undefined when it is final: one of the agent's
 * "nothing ran" codes, or a 502/503/504 that is not in the agent's error shape (a proxy or load balancer in front).
 */
export function retryableAnswer(status: number, body: Record<string, unknown>): string | undefined {
  const code = typeof body.code === 'string' ? body.code : undefined;
  if (code && RETRYABLE_CODES.has(code)) return `${status} ${code}`;
  if (!code?.startsWith('DVM_') && (status === 502 || status === 503 || status === 504))
    return `${status} from something in front of the agent`;
  return undefined;
}

/** Whether a connection failure (its cause's code) is worth a retry: refused, reset, closed, timed out. */
export function retryableCause(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE_CAUSES.has(code);
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds from `now`, or undefined when absent or bad. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The wait before retry number `attempt` (1-based): half of the doubled backoff plus a random part of the other half
 * ("equal jitter", so clients that failed together do not return together), or the server's Retry-After when it
 * asks for longer. Undefined when the server asks for longer than the policy waits.
 */
export function retryDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return undefined;
  const backoff = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  const jittered = Math.round(backoff / 2 + random() * (backoff / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}
