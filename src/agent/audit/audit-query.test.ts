import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditFiltersOf, checkAuditFilters } from './audit-query.ts';

const NOW = new Date('2026-06-01T12:00:00.000Z');

test('auditFiltersOf refuses unknown and repeated parameters, listing every one; request_id is requestId', () => {
  assert.deepEqual(auditFiltersOf({ actor: 'op1', requestId: 'r1', target: 'env=prod' }), {
    actor: 'op1',
    requestId: 'r1',
    target: 'env=prod',
  });
  // request_id, as the execute request spells it, is the same filter.
  assert.deepEqual(auditFiltersOf({ request_id: 'r1' }), { requestId: 'r1' });
  assert.throws(
    () => auditFiltersOf({ request_id: 'r1', requestId: 'r1' }),
    /the same filter: give one of them/,
  );
  const cases: [Record<string, unknown>, string[], RegExp][] = [
    [{ actor: ['op1', 'admin1'] }, ['actor'], /more than once/],
    [{ 'decision[]': 'allowed' }, ['decision[]'], /unknown parameter "decision\[\]"/],
    [{ actr: 'op1' }, ['actr'], /did you mean "actor"/i],
    [{ request_id: 'r1', requestId: 'r1', env: ['a', 'b'] }, ['env', 'requestId'], /more than once/],
  ];
  for (const [query, paths, message] of cases) {
    assert.throws(
      () => auditFiltersOf(query),
      (error: { code: string; causes: { path: string; message: string; fix?: string }[] }) => {
        assert.equal(error.code, 'DVM_QUERY_INVALID');
        assert.deepEqual(
          error.causes.map((c) => c.path),
          paths,
        );
        assert.match(error.causes[0].message, message);
        if (error.causes[0].message.startsWith('unknown'))
          assert.match(
            error.causes[0].fix ?? '',
            /actor, owner, action, route, decision, env, target, request_id, requestId, since, until, limit, after, tail/,
          );
        return true;
      },
      JSON.stringify(query),
    );
  }
});

test('checkAuditFilters takes RFC 3339 times, durations and decimal integers only', () => {
  const ok: [Record<string, string>, Partial<ReturnType<typeof checkAuditFilters>>][] = [
    [{ since: '1h' }, { since: '2026-06-01T11:00:00.000Z' }],
    [
      { since: '1h30m', until: '2026-06-01T13:00:00+02:00' },
      { since: '2026-06-01T10:30:00.000Z', until: '2026-06-01T11:00:00.000Z' },
    ],
    [{ until: '2026-05-01T00:00:00.5Z' }, { until: '2026-05-01T00:00:00.500Z' }],
    [
      { limit: '10', after: '0100' },
      { limit: 10, after: 100 },
    ],
    [{}, { limit: 100 }],
  ];
  for (const [filters, expected] of ok) {
    const checked = checkAuditFilters(filters, NOW);
    for (const [key, value] of Object.entries(expected))
      assert.equal(checked[key as keyof typeof checked], value, `${JSON.stringify(filters)} ${key}`);
  }
  const bad: [Record<string, string>, string][] = [
    [{ since: '10' }, 'since'],
    [{ since: '2026-06-01' }, 'since'],
    [{ since: 'June 1, 2026' }, 'since'],
    [{ until: '2026-02-30T00:00:00Z' }, 'until'],
    [{ until: '2026-06-01T12:00:00' }, 'until'],
    [{ limit: '0x10' }, 'limit'],
    [{ limit: '1e2' }, 'limit'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: ' 5' }, 'limit'],
    [{ after: '1e2' }, 'after'],
    [{ after: '-1' }, 'after'],
    [{ decision: 'maybe' }, 'decision'],
  ];
  for (const [filters, path] of bad) {
    assert.throws(
      () => checkAuditFilters(filters, NOW),
      (error: { code: string; causes: { path: string }[] }) =>
        error.code === 'DVM_QUERY_INVALID' && error.causes.length === 1 && error.causes[0].path === path,
      JSON.stringify(filters),
    );
  }
  assert.throws(() => checkAuditFilters({ since: '10', limit: '0x10', decision: 'x' }, NOW), {
    message: /3 problems/,
  });
});

test('a filter given without a value (?actor=, a bare ?limit) is refused, never read as no filter', () => {
  assert.throws(
    () => auditFiltersOf({ actor: '', limit: '', decision: 'denied' }),
    (e: { code: string; causes: { path: string; message: string }[] }) => {
      assert.equal(e.code, 'DVM_QUERY_INVALID');
      assert.deepEqual(
        e.causes.map((c) => [c.path, c.message]),
        [
          ['actor', 'parameter "actor" is given without a value'],
          ['limit', 'parameter "limit" is given without a value'],
        ],
      );
      return true;
    },
  );
});
