/** How many requests one principal may send: a steady rate, and a burst above it. */
export interface RequestRate {
  perSecond: number;
  burst: number;
}

/**
 * A token bucket per principal (as Vault's rate limit quotas and GitHub's API do per token): each request takes one
 * token; tokens come back at `perSecond`, up to `burst`. Nothing is stored: a restarted agent starts every bucket
 * full.
 */
export class RateLimiter {
  readonly #rate: RequestRate;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(rate: RequestRate) {
    this.#rate = rate;
  }

  /** Takes a token for `key`: 0 when the request may go on, else the milliseconds until a token is back. */
  take(key: string, now = performance.now()): number {
    const { perSecond, burst } = this.#rate;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / perSecond);
  }
}
