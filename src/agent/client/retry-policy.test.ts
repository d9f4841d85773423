import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  retryableAnswer,
  retryableCause,
  retryDelay,
} from './retry-policy.ts';

test('only answers that say nothing ran are retried: the agent refusing while stopping or busy, a proxy in front', () => {
  assert.match(retryableAnswer(503, { code: 'DVM_AGENT_STOPPING' }) ?? '', /503 DVM_AGENT_STOPPING/);
  assert.ok(retryableAnswer(429, { code: 'DVM_TOO_MANY_RUNNING' }));
  assert.ok(retryableAnswer(503, { code: 'DVM_STORE_UNAVAILABLE' }));
  assert.match(
    retryableAnswer(503, { code: 'DVM_AGENT_BUSY' }) ?? '',
    /503 DVM_AGENT_BUSY/,
    'its connections used up',
  );
  for (const status of [502, 503, 504])
    assert.match(retryableAnswer(status, { message: '<html>bad gateway' }) ?? '', /in front of the agent/);
  // An action's own failure is its answer, stored under its request_id: sending it again would only repeat it.
  assert.equal(retryableAnswer(503, { code: 'DVM_CONNECTOR_UNAVAILABLE' }), undefined);
  assert.equal(retryableAnswer(504, { code: 'DVM_TIMEOUT' }), undefined);
  for (const [status, code] of [
    [200, undefined],
    [401, 'DVM_UNAUTHENTICATED'],
    [403, 'DVM_FORBIDDEN'],
    [409, 'DVM_IDEMPOTENCY_CONFLICT'],
    [422, 'DVM_REQUEST_INVALID'],
    [428, 'DVM_CONFIRMATION_REQUIRED'],
    [500, 'DVM_INTERNAL'],
    [500, undefined],
  ] as const)
    assert.equal(retryableAnswer(status, code ? { code } : {}), undefined, `${status} ${code}`);
});

test('connection failures are retried; a bad certificate or an unknown host name is not', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'EAI_AGAIN'])
    assert.ok(retryableCause(code), code);
  for (const code of [
    undefined,
    '',
    'ENOTFOUND',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])
    assert.equal(retryableCause(code), false, String(code));
});

test('Retry-After is read as seconds or as an HTTP date; anything else is ignored', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  assert.equal(parseRetryAfter('2', now), 2000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Mon, 30 Nov 2026 12:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', now), 0, 'a date in the past: at once');
  for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '12345678901'])
    assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
});

test('the backoff doubles from its base to its cap with equal jitter; a longer Retry-After wins unless past the maximum', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseMs: 100, capMs: 1000, maxRetryAfterMs: 5000 };
  const low = () => 0;
  const high = () => 1;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((attempt) => retryDelay(attempt, policy, undefined, low)),
    [50, 100, 200, 400, 500, 500],
  );
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((attempt) => retryDelay(attempt, policy, undefined, high)),
    [100, 200, 400, 800, 1000, 1000],
  );
  assert.equal(retryDelay(1, policy, 2000, high), 2000, 'the server asked for longer');
  assert.equal(retryDelay(4, policy, 10, high), 800, 'the backoff is longer than asked');
  assert.equal(retryDelay(1, policy, 5001, low), undefined, 'past the maximum: reported, not waited for');
});
