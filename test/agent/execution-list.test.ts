import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, createToken, type ServeProcess, startServe } from '../helpers/agent-server.ts';
import { dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';

// Created at the top level: a tempHome() made inside before() would be removed as soon as before() ends.
const home = tempHome();
let serve: ServeProcess;
const tokens: Record<string, string> = {};
// Identity (token/<id>) of each token's principal, and the executions each one ran.
const identity: Record<string, string> = {};
const ran: Record<string, string[]> = { op1: [], op2: [], boss: [], local: [] };

interface Summary {
  id: string;
  principal: string;
  action: string;
  status: string;
  env?: string;
  created_at: string;
  finished_at?: string;
  result?: unknown;
}

const list = (token: string, query = '') =>
  api(serve.url, 'GET', `/v1/executions${query ? `?${query}` : ''}`, { token });

// Every page from the first, following `next`: the executions and how many pages it took.
async function allPages(token: string, query: string): Promise<{ executions: Summary[]; pages: number }> {
  const executions: Summary[] = [];
  let next: string | undefined;
  for (let pages = 1; pages <= 100; pages++) {
    const page = await list(token, `${query}${next ? `&before=${next}` : ''}`);
    assert.equal(page.status, 200, page.text);
    executions.push(...(page.body.items as Summary[]));
    next = page.body.next as string | undefined;
    if (!next) return { executions, pages };
  }
  throw new Error('the pages never end');
}

before(async () => {
  for (const [name, role] of [
    ['op1', 'operator'],
    ['op2', 'operator'],
    ['boss', 'admin'],
  ]) {
    tokens[name] = createToken(home, name, role);
  }
  const listed = JSON.parse(dvmOk(home, ['token', 'list', '-o', 'json']).stdout).items as {
    id: string;
    name: string;
  }[];
  for (const token of listed) identity[token.name] = `token/${token.id}`;
  // Two in-process runs, as the local admin.
  for (const env of ['dev', 'test']) {
    const run = JSON.parse(dvmOk(home, ['action', 'run', 'system.info', '--env', env, '-o', 'json']).stdout);
    ran.local.push(run.execution_id);
  }
  serve = await startServe(home);
  const plan: [string, string][] = [
    ...Array.from({ length: 7 }, (_, i): [string, string] => ['op1', i % 2 ? 'stage' : 'dev']),
    ['op2', 'dev'],
    ['op2', 'stage'],
    ['op2', 'dev'],
    ['boss', 'prod'],
    ['boss', 'dev'],
  ];
  for (const [name, env] of plan) {
    const response = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: tokens[name],
      body: { request_id: `${name}-${ran[name].length}`, action: 'system.info', target: { env } },
    });
    assert.equal(response.status, 200, response.text);
    ran[name].push(String(response.body.execution_id));
  }
});

after(async () => {
  await serve?.stop();
});

const everyone = () => Object.values(ran).flat();
const newestFirst = (ids: string[]) => [...ids].sort().reverse();

test('paging with the next cursor returns every execution exactly once, newest first, without results', async () => {
  for (const limit of [1, 4, 5, 1000]) {
    const { executions, pages } = await allPages(tokens.boss, `limit=${limit}`);
    const ids = executions.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, `no execution twice (limit ${limit})`);
    assert.deepEqual(ids, newestFirst(everyone()), `limit ${limit}`);
    assert.equal(pages, Math.max(1, Math.ceil(everyone().length / limit)), `pages of ${limit}`);
    for (let i = 1; i < executions.length; i++)
      assert.ok(executions[i - 1].created_at >= executions[i].created_at, 'newest first');
  }
  const first = await list(tokens.boss, 'limit=2');
  const rows = first.body.items as Summary[];
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.action, 'system.info');
    assert.equal(row.status, 'succeeded');
    assert.ok(row.finished_at);
    assert.equal(row.result, undefined, 'the list leaves results to GET /v1/executions/{id}');
  }
  const byDefault = await list(tokens.boss);
  assert.equal((byDefault.body.items as Summary[]).length, everyone().length);
  assert.equal(byDefault.body.next, undefined);
});

test('an operator lists only its own executions; an admin lists everyone and filters by principal', async () => {
  const mine = await allPages(tokens.op1, 'limit=3');
  assert.deepEqual(
    mine.executions.map((e) => e.id),
    newestFirst(ran.op1),
  );
  assert.ok(mine.executions.every((e) => e.principal === identity.op1));

  const stage = await list(tokens.op2, 'env=stage&status=succeeded&action=system.info');
  assert.deepEqual(
    (stage.body.items as Summary[]).map((e) => e.id),
    [ran.op2[1]],
  );

  const own = await list(tokens.op1, `principal=${encodeURIComponent(identity.op1)}`);
  assert.equal(own.status, 200, 'naming itself is allowed');
  assert.equal((own.body.items as Summary[]).length, ran.op1.length);

  const other = await list(tokens.op1, `principal=${encodeURIComponent(identity.op2)}`);
  assert.equal(other.status, 403, other.text);
  assert.equal(other.body.code, 'DVM_FORBIDDEN');
  assert.equal((other.body.details as { path: string }).path, 'principal');
  const audit = await api(serve.url, 'GET', '/v1/audit?actor=op1&decision=denied', { token: tokens.boss });
  assert.ok(
    (audit.body.items as { reasons: string[] }[]).some((e) =>
      e.reasons.some((r) => r.includes(`of principal ${identity.op2} needs the admin role`)),
    ),
    `the refusal is audited: ${audit.text}`,
  );

  const all = await list(tokens.boss, 'limit=1000');
  assert.deepEqual(
    new Set((all.body.items as Summary[]).map((e) => e.principal)),
    new Set([identity.op1, identity.op2, identity.boss, 'local']),
  );
  for (const name of ['op2', 'local']) {
    const theirs = await list(tokens.boss, `principal=${encodeURIComponent(identity[name] ?? name)}`);
    assert.deepEqual(
      (theirs.body.items as Summary[]).map((e) => e.id),
      newestFirst(ran[name]),
      name,
    );
  }
  const since = await list(
    tokens.boss,
    `since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
  );
  assert.deepEqual(since.body.items, [], 'nothing was created in the future');
  const recent = await list(tokens.boss, 'since=1h&until=2099-01-01T00:00:00Z&env=prod');
  assert.deepEqual(
    (recent.body.items as Summary[]).map((e) => e.id),
    [ran.boss[0]],
  );
});

test('a bad query is 400 DVM_QUERY_INVALID listing every problem at once', async () => {
  const bad = await list(tokens.op1, 'status=done&since=10&limit=0&limit=5&nope=1&before=%3B');
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.body.code, 'DVM_QUERY_INVALID');
  const causes = (bad.body.details as { causes: { path: string; message: string }[] }).causes;
  assert.deepEqual(causes.map((c) => c.path).sort(), ['before', 'limit', 'nope', 'since', 'status']);
  assert.match(causes.find((c) => c.path === 'limit')?.message ?? '', /more than once/);
  assert.match(causes.find((c) => c.path === 'nope')?.message ?? '', /unknown parameter "nope"/);
  // Checked before who may filter by principal: the format is wrong whoever asks.
  const both = await list(tokens.op1, `principal=${identity.op2}&status=done`);
  assert.equal(both.status, 400);
});

test('dvm execution list lists in-process as the local admin, and with --server as the token', async () => {
  const local = await dvmAsync(home, ['execution', 'list', '--limit', '1000', '-o', 'json']);
  assert.equal(local.status, 0, local.stderr);
  assert.deepEqual(
    (JSON.parse(local.stdout).items as Summary[]).map((e) => e.id),
    newestFirst(everyone()),
    'in-process, the local admin sees every execution',
  );
  const table = await dvmAsync(home, ['execution', 'list', '--env', 'test']);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^ID\s+ACTION\s+STATUS\s+ENV\s+STARTED\s+DURATION\n/);
  assert.match(
    table.stdout,
    new RegExp(
      `^${ran.local[1]}\\s+system\\.info\\s+succeeded\\s+test\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\s+\\d+ms$`,
      'm',
    ),
  );
  assert.equal(table.stdout.trim().split('\n').length, 2);

  const remote = await dvmAsync(home, ['execution', 'list', '--server', serve.url, '--limit', '2'], {
    env: { DVM_TOKEN: tokens.op2 },
  });
  assert.equal(remote.status, 0, remote.stderr);
  const rows = remote.stdout.trim().split('\n').slice(1);
  assert.deepEqual(
    rows.map((r) => r.split(/\s+/)[0]),
    newestFirst(ran.op2).slice(0, 2),
  );
  const next = newestFirst(ran.op2)[1];
  assert.match(remote.stderr, new RegExp(`the next page is --before ${next}`), 'says there is more');
  const page2 = await dvmAsync(
    home,
    ['execution', 'list', '--server', serve.url, '--limit', '2', '--before', next],
    {
      env: { DVM_TOKEN: tokens.op2 },
    },
  );
  assert.deepEqual(
    page2.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((r) => r.split(/\s+/)[0]),
    newestFirst(ran.op2).slice(2, 4),
    'the next page',
  );

  const json = await dvmAsync(home, ['execution', 'list', '--status', 'succeeded', '-o', 'json'], {
    env: { DVM_SERVER: serve.url, DVM_TOKEN: tokens.op1 },
  });
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(
    (JSON.parse(json.stdout).items as Summary[]).map((e) => e.id),
    newestFirst(ran.op1),
  );

  const localAndRemote: Record<string, string>[] = [{}, { DVM_SERVER: serve.url, DVM_TOKEN: tokens.op1 }];
  for (const env of localAndRemote) {
    const bad = await dvmAsync(home, ['execution', 'list', '--status', 'done', '--since', '10'], { env });
    assert.equal(bad.status, 1, bad.stdout);
    assert.match(bad.stderr, /DVM_QUERY_INVALID/);
    assert.match(bad.stderr, /status "done" is not one of running, succeeded, failed, interrupted/);
    assert.match(bad.stderr, /since "10" is neither an RFC 3339 time nor a duration/);
  }
  const forbidden = await dvmAsync(home, ['execution', 'list', '--principal', 'local'], {
    env: { DVM_SERVER: serve.url, DVM_TOKEN: tokens.op1 },
  });
  assert.equal(forbidden.status, 1);
  assert.match(forbidden.stderr, /DVM_FORBIDDEN/);
});
