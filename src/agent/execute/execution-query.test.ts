import assert from 'node:assert/strict';
import type { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { openAgentDb } from '../store/agent-db.ts';
import { GroupCommitter } from '../store/group-commit.ts';
import {
  checkExecutionFilters,
  executionFiltersOf,
  executionListQuery,
  queryExecutions,
} from './execution-query.ts';
import { Executions, newExecutionId } from './executions.ts';

const NOW = new Date('2026-06-01T12:00:00.000Z');

// Rows as the agent writes them, with ids made from their creation time (newExecutionId's form).
function insert(
  db: DatabaseSync,
  rows: { at: string; lagMs?: number; principal?: string; action?: string; env?: string; status?: string }[],
): string[] {
  const ids: string[] = [];
  rows.forEach((row, i) => {
    const ms = Date.parse(row.at) - (row.lagMs ?? 0);
    const id = `x${ms.toString(36)}${String(i).padStart(12, '0')}`;
    ids.push(id);
    db.prepare(
      `INSERT INTO executions (id, principal, action, version, env, status, error, created_at)
       VALUES (?, ?, ?, '1.0.0', ?, ?, ?, ?)`,
    ).run(
      id,
      row.principal ?? 'local',
      row.action ?? 'system.info',
      row.env ?? 'dev',
      row.status ?? 'succeeded',
      row.status === 'failed' ? JSON.stringify({ code: 'DVM_TIMEOUT', message: 'too slow' }) : null,
      row.at,
    );
  });
  return ids;
}

test('executionFiltersOf refuses unknown and repeated parameters and bad values, listing every one at once', () => {
  assert.deepEqual(executionFiltersOf({ status: 'running', before: 'xmfz0abc1234567890abc' }, NOW), {
    status: 'running',
    before: 'xmfz0abc1234567890abc',
    limit: 50,
  });
  const cases: [Record<string, unknown>, string[], RegExp][] = [
    [{ status: ['running', 'failed'] }, ['status'], /more than once/],
    [{ 'status[]': 'running' }, ['status[]'], /unknown parameter "status\[\]"/],
    [{ statu: 'running' }, ['statu'], /did you mean "status"/i],
    [{ after: 'x1', actor: 'ci', env: ['a', 'b'] }, ['after', 'actor', 'env'], /unknown parameter "after"/],
    [
      { nope: '1', limit: ['1', '2'], status: 'done', since: '10' },
      ['nope', 'limit', 'status', 'since'],
      /unknown parameter "nope"/,
    ],
  ];
  for (const [query, paths, message] of cases) {
    assert.throws(
      () => executionFiltersOf(query, NOW),
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
            /action, status, env, principal, since, until, limit, before/,
          );
        return true;
      },
      JSON.stringify(query),
    );
  }
});

test('checkExecutionFilters takes statuses, RFC 3339 times or durations, limits 1–1000 and execution ids only', () => {
  assert.deepEqual(checkExecutionFilters({}, NOW), { limit: 50 });
  assert.deepEqual(
    checkExecutionFilters(
      {
        action: 'system.info',
        status: 'interrupted',
        env: 'prod',
        principal: 'token/abcd1234',
        since: '1h',
        until: '2026-06-01T13:00:00+02:00',
        limit: '1000',
        before: 'xmfz0abc1234567890abc',
      },
      NOW,
    ),
    {
      action: 'system.info',
      status: 'interrupted',
      env: 'prod',
      principal: 'token/abcd1234',
      since: '2026-06-01T11:00:00.000Z',
      until: '2026-06-01T11:00:00.000Z',
      limit: 1000,
      before: 'xmfz0abc1234567890abc',
    },
  );
  const bad: [Record<string, string>, string][] = [
    [{ status: 'done' }, 'status'],
    [{ status: 'RUNNING' }, 'status'],
    [{ since: '10' }, 'since'],
    [{ until: '2026-06-01' }, 'until'],
    [{ until: '2026-02-30T00:00:00Z' }, 'until'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: '0x10' }, 'limit'],
    [{ before: '123' }, 'before'],
    [{ before: 'x1 OR 1=1' }, 'before'],
    // A cursor edited by hand: a character added, one cut, or not hex where the random part is.
    [{ before: 'xmfz0abc1234567890abcx' }, 'before'],
    // A hex digit added in the random part, or at the end: the time part takes a digit more, centuries ahead.
    [{ before: 'xmfz0abc1234567890abc0' }, 'before'],
    [{ before: 'xmfz0abc12345a67890abc' }, 'before'],
    [{ before: 'xmfz0abc1234567890ab' }, 'before'],
    [{ before: 'xyz' }, 'before'],
    [{ before: 'xmfz0abc1234567890abz' }, 'before'],
  ];
  for (const [filters, path] of bad) {
    assert.throws(
      () => checkExecutionFilters(filters, NOW),
      (error: { code: string; causes: { path: string }[] }) =>
        error.code === 'DVM_QUERY_INVALID' && error.causes.length === 1 && error.causes[0].path === path,
      JSON.stringify(filters),
    );
  }
  assert.throws(
    () => checkExecutionFilters({ status: 'x', since: 'yesterday', limit: '-1', before: '?' }, NOW),
    (error: { message: string; causes: { path: string }[] }) => {
      assert.match(error.message, /4 problems/);
      assert.deepEqual(
        error.causes.map((c) => c.path),
        ['status', 'since', 'limit', 'before'],
      );
      return true;
    },
  );
});

test('queryExecutions lists newest first, filters with AND, and pages with before until every row came once', () => {
  const db = openAgentDb(':memory:');
  const ids = insert(
    db,
    Array.from({ length: 23 }, (_, i) => ({
      at: new Date(Date.parse('2026-06-01T10:00:00.000Z') + i * 60_000).toISOString(),
      principal: i % 3 === 0 ? 'token/aaaa0000' : 'local',
      action: i % 2 === 0 ? 'system.info' : 'docker.logs',
      env: i < 10 ? 'dev' : 'prod',
      status: i === 22 ? 'running' : i % 5 === 0 ? 'failed' : 'succeeded',
    })),
  );
  const newestFirst = [...ids].reverse();
  const all = (filters: Parameters<typeof checkExecutionFilters>[0]) => {
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = queryExecutions(db, checkExecutionFilters({ ...filters, before }, NOW));
      seen.push(...page.items.map((e) => e.id));
      if (!page.next) return { seen, pages: pages + 1 };
      before = page.next;
    }
    throw new Error('no end of pages');
  };
  assert.deepEqual(all({ limit: 5 }), { seen: newestFirst, pages: 5 });
  assert.deepEqual(all({ limit: 23 }), { seen: newestFirst, pages: 1 }, 'no next when the page ends it');
  assert.deepEqual(all({ limit: 1 }).seen, newestFirst);

  const pick = (keep: (i: number) => boolean) => newestFirst.filter((id) => keep(ids.indexOf(id)));
  assert.deepEqual(
    all({ principal: 'token/aaaa0000', limit: 2 }).seen,
    pick((i) => i % 3 === 0),
  );
  assert.deepEqual(
    all({ action: 'docker.logs', env: 'prod' }).seen,
    pick((i) => i % 2 === 1 && i >= 10),
  );
  assert.deepEqual(all({ status: 'running' }).seen, [ids[22]]);
  assert.deepEqual(
    all({ status: 'failed', limit: 2 }).seen,
    pick((i) => i % 5 === 0 && i !== 22),
  );
  assert.deepEqual(
    all({ since: '2026-06-01T10:05:00Z', until: '2026-06-01T10:07:00.000Z' }).seen,
    pick((i) => i >= 5 && i <= 7),
    'since and until are inclusive',
  );
  assert.deepEqual(all({ since: '1h', principal: 'nobody' }).seen, []);

  const [failed] = queryExecutions(db, checkExecutionFilters({ status: 'failed', limit: 1 }, NOW)).items;
  assert.deepEqual(failed, {
    id: ids[20],
    principal: 'local',
    action: 'system.info',
    version: '1.0.0',
    env: 'prod',
    status: 'failed',
    created_at: '2026-06-01T10:20:00.000Z',
    error_code: 'DVM_TIMEOUT',
  });
});

test('a time filter finds an execution whose created_at came after its id, and none outside 1972–2059 is lost', () => {
  const db = openAgentDb(':memory:');
  const [late] = insert(db, [{ at: '2026-06-01T10:00:00.250Z', lagMs: 40 }]);
  const list = (filters: Record<string, string>) =>
    queryExecutions(db, checkExecutionFilters(filters, NOW)).items.map((e) => e.id);
  assert.deepEqual(list({ since: '2026-06-01T10:00:00.250Z' }), [late]);
  assert.deepEqual(list({ until: '2026-06-01T10:00:00.250Z' }), [late]);
  assert.deepEqual(list({ since: '2026-06-01T10:00:00.251Z' }), []);
  assert.deepEqual(list({ until: '2026-06-01T10:00:00.249Z' }), []);
  assert.deepEqual(list({ since: '1970-01-01T00:00:00Z', until: '9999-12-31T23:59:59Z' }), [late]);
});

test('executions running in memory and not stored yet are listed once, as running, among the stored ones', async () => {
  const db = openAgentDb(':memory:');
  const executions = new Executions(db, new GroupCommitter(db));
  const stored = newExecutionId();
  await executions.create({
    id: stored,
    principal: 'local',
    action: 'system.info',
    version: '1.0.0',
    env: 'dev',
  });
  await new Promise((resolve) => setTimeout(resolve, 2));
  // A read that answers at once: opened without persist, inserted whole when it ends.
  const unsaved = executions.prepare({
    id: newExecutionId(),
    principal: 'token/aaaa0000',
    action: 'docker.logs',
    version: '1.0.0',
    env: 'prod',
  });
  unsaved.open();
  const ids = (filters: Record<string, string>) =>
    executions.list(checkExecutionFilters(filters, new Date())).items.map((e) => `${e.id} ${e.status}`);
  const listed = ids({});
  assert.deepEqual(listed, [`${unsaved.record.id} running`, `${stored} running`]);
  assert.deepEqual(ids({ status: 'running', env: 'prod' }), [`${unsaved.record.id} running`]);
  assert.deepEqual(ids({ principal: 'local' }), [`${stored} running`]);
  assert.deepEqual(ids({ status: 'succeeded' }), []);
  const first = executions.list(checkExecutionFilters({ limit: '1' }, new Date()));
  assert.equal(first.next, unsaved.record.id);
  assert.deepEqual(ids({ before: first.next as string }), [`${stored} running`]);
  assert.equal(
    (executions.list(checkExecutionFilters({}, new Date())).items[0] as { result?: unknown }).result,
    undefined,
  );

  await executions.finish(
    unsaved.record.id,
    { status: 'succeeded', result: { big: 'x' } },
    { unsaved: true },
  );
  await executions.finish(stored, { status: 'failed', error: { code: 'DVM_TIMEOUT', message: 'slow' } });
  assert.deepEqual(ids({}), [`${unsaved.record.id} succeeded`, `${stored} failed`]);
});

test('the common filters read an index in id order: no sort, no scan of the whole table', () => {
  const db = openAgentDb(':memory:');
  const plan = (filters: Record<string, string>) => {
    const { sql, params } = executionListQuery(checkExecutionFilters(filters, NOW));
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
      .map((r) => r.detail)
      .join(' | ');
  };
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /^SCAN executions USING INDEX sqlite_autoindex_executions_1$/],
    [{ status: 'running' }, /^SEARCH executions USING INDEX executions_by_status \(status=\?\)$/],
    [
      { status: 'succeeded', before: 'xmfz0abc1234567890abc' },
      /^SEARCH executions USING INDEX executions_by_status \(status=\? AND id<\?\)$/,
    ],
    [
      { principal: 'token/aaaa0000' },
      /^SEARCH executions USING INDEX executions_by_principal \(principal=\?\)$/,
    ],
    [{ since: '1h' }, /^SEARCH executions USING INDEX sqlite_autoindex_executions_1 \(id>\?\)$/],
  ];
  for (const [filters, expected] of cases) assert.match(plan(filters), expected, JSON.stringify(filters));
});

test('an execution filter given without a value (?principal=, a bare ?since) is refused, never read as no filter', () => {
  assert.throws(
    () => executionFiltersOf({ principal: '', since: '' }, NOW),
    (e: { code: string; causes: { path: string }[] }) =>
      e.code === 'DVM_QUERY_INVALID' &&
      JSON.stringify(e.causes.map((c) => c.path).sort()) === '["principal","since"]',
  );
});
