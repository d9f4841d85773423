import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from './rate-limit.ts';
import { retryAfterSeconds } from './retry-after.ts';

test('a bucket per principal: a burst goes through, then one request per 1/rate seconds; others are not affected', () => {
  const limiter = new RateLimiter({ perSecond: 2, burst: 3 });
  assert.deepEqual(
    [0, 0, 0, 0].map(() => limiter.take('alice', 1000)),
    [0, 0, 0, 500],
    'three at once, the fourth waits half a second',
  );
  assert.equal(limiter.take('bob', 1000), 0, "bob's bucket is his own");
  assert.equal(limiter.take('alice', 1250), 250, 'a quarter second later: half a token back, 250 ms to go');
  assert.equal(limiter.take('alice', 1500), 0, 'a whole token back');
  assert.equal(limiter.take('alice', 1500), 500);
  // Idle for long: the bucket fills up to the burst, not beyond.
  assert.deepEqual(
    [0, 0, 0, 0].map(() => limiter.take('alice', 60_000)),
    [0, 0, 0, 500],
  );
});

test("a refusal's Retry-After is its code's, or longer when its details say how long (the next token)", () => {
  assert.equal(retryAfterSeconds('DVM_RATE_LIMITED', { retry_after_ms: 2500 }), 3);
  assert.equal(retryAfterSeconds('DVM_RATE_LIMITED', { retry_after_ms: 200 }), 1);
  assert.equal(retryAfterSeconds('DVM_AGENT_STOPPING'), 1);
  assert.equal(retryAfterSeconds('DVM_TOO_MANY_RUNNING', {}), 2);
  assert.equal(retryAfterSeconds('DVM_FORBIDDEN', { retry_after_ms: 2500 }), undefined, 'not worth a retry');
});
