import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvmAsync, tempHome } from '../helpers/dvm.ts';
import { waitFor } from '../helpers/wait.ts';

test('agent.limits.requests_per_second: a principal over its rate gets 429 DVM_RATE_LIMITED with Retry-After (audited); others, health and the CLI, which waits, go on', async () => {
  const home = tempHome();
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  limits: {requests_per_second: 2, request_burst: 3}\n');
  const alice = createToken(home, 'alice', 'operator');
  const bob = createToken(home, 'bob', 'operator');
  const auditor = createToken(home, 'auditor', 'admin');
  const serve = await startServe(home);
  try {
    // serve says which limits hold.
    await waitFor('the agent settings line', () => /agent settings: /.test(serve.output()));
    assert.match(
      serve.output(),
      /agent settings: follows 100 at once \(20 per principal\); requests 2\/s per principal \(burst 3\); connections 4096 at once \(4096 per address\); event streams 2048 at once \(1024 per principal\); executions kept for ever; environments any; 0 audit alert rule\(s\); allowed hosts not set/,
    );
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await api(serve.url, 'GET', '/v1/actions', { token: alice }));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 429, 429],
    );
    const refused = answers[3];
    assert.equal(refused.body.code, 'DVM_RATE_LIMITED');
    assert.match(String(refused.body.message), /alice sends more than 2 requests a second \(burst 3\)/);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((await api(serve.url, 'GET', '/v1/actions', { token: bob })).status, 200, "bob's own rate");
    assert.equal(
      (await api(serve.url, 'GET', '/v1/health')).status,
      200,
      'health needs no token and has no rate',
    );

    await sleep(1100);
    assert.equal(
      (await api(serve.url, 'GET', '/v1/actions', { token: alice })).status,
      200,
      'tokens came back',
    );

    // The CLI sends two requests (the catalog, the execute): over the rate, it waits its Retry-After and goes on.
    const env = { env: { DVM_SERVER: serve.url, DVM_TOKEN: alice } };
    const runs = await Promise.all([1, 2].map(() => dvmAsync(home, ['action', 'run', 'system.info'], env)));
    for (const run of runs) assert.equal(run.status, 0, run.stderr);
    assert.match(
      runs.map((r) => r.stderr).join('\n'),
      /: 429 DVM_RATE_LIMITED; sending it again in \d\.\d s \(retry 1 of 3\)/,
    );

    const audit = await api(serve.url, 'GET', '/v1/audit?actor=alice&decision=denied', { token: auditor });
    const reasons = (audit.body.items as { reasons?: string[]; error?: { code: string } }[]).filter(
      (e) => e.error?.code === 'DVM_RATE_LIMITED',
    );
    assert.ok(reasons.length >= 1, audit.text);
    assert.match(reasons[0].reasons?.[0] ?? '', /GET \/v1\/actions: over 2 requests a second \(burst 3\)/);
  } finally {
    await serve.stop();
  }
});
