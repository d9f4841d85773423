import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { docker, startChatty, startDockerFollow } from '../helpers/docker.ts';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';

test('agent.limits caps the follows running at once, per principal and in all: 429 DVM_TOO_MANY_RUNNING (audited); repeats and ended follows do not count', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const chatty = `dvm-limits-${process.pid}`;
  startChatty(chatty);
  t.after(() => docker('rm', '-f', chatty));
  const home = tempHome();
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  limits: {follows: 2, follows_per_principal: 1}\n');
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((name) => createToken(home, name, 'operator'));
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  t.after(() => serve.stop());
  const follow = (token: string, requestId: string) =>
    api(serve.url, 'POST', '/v1/actions/execute', {
      token,
      body: {
        request_id: requestId,
        action: 'docker.logs',
        params: { container: chatty, tail: 0, follow: true },
        target: { env: 'dev' },
        timeout: '60s',
      },
    });

  const first = await startDockerFollow(serve.url, alice, {
    requestId: 'a1',
    container: chatty,
    timeout: '60s',
  });
  const second = await follow(alice, 'a2');
  assert.equal(second.status, 429, second.text);
  assert.equal(second.body.code, 'DVM_TOO_MANY_RUNNING');
  assert.equal(second.headers.get('retry-after'), '2', 'a client may try again later');
  const { scope, limit, running } = second.body.details as Record<string, unknown>;
  assert.deepEqual({ scope, limit, running }, { scope: 'principal', limit: 1, running: 1 });
  const repeat = await follow(alice, 'a1');
  assert.deepEqual(
    [repeat.status, repeat.body.execution_id],
    [202, first.execution_id],
    'a repeat takes no slot',
  );

  await startDockerFollow(serve.url, bob, { requestId: 'b1', container: chatty, timeout: '60s' });
  const third = await follow(carol, 'c1');
  assert.equal(third.status, 429, third.text);
  assert.equal((third.body.details as { scope: string }).scope, 'agent');

  const cancelled = await api(serve.url, 'POST', `/v1/executions/${first.execution_id}/cancel`, {
    token: alice,
  });
  assert.equal(cancelled.status, 200, cancelled.text);
  await startDockerFollow(serve.url, carol, { requestId: 'c2', container: chatty, timeout: '60s' });

  const refusals = dvmOk(home, ['audit', 'export', '--decision', 'denied'])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .map((e) => [e.actor, e.requestId, e.error.code]);
  assert.deepEqual(refusals, [
    ['alice', 'a2', 'DVM_TOO_MANY_RUNNING'],
    ['carol', 'c1', 'DVM_TOO_MANY_RUNNING'],
  ]);
});

test('agent.limits must be positive integers under known names; the agent does not open otherwise', () => {
  for (const [yaml, path] of [
    ['agent:\n  limits: {follows: 0}\n', 'agent.limits.follows'],
    ['agent:\n  limits: {sockets: 5}\n', 'agent.limits.sockets'],
    ['agent:\n  limits: 10\n', 'agent.limits'],
    ['agent:\n  limits: {requests_per_second: 0}\n', 'agent.limits.requests_per_second'],
    ['agent:\n  limits: {request_burst: 10}\n', 'agent.limits.request_burst'],
  ]) {
    const home = tempHome();
    writeFileSync(join(home, 'config.yaml'), yaml);
    const run = dvm(home, ['action', 'run', 'system.info']);
    assert.equal(run.status, 1, yaml);
    assert.match(
      run.stderr,
      new RegExp(`DVM_SCHEMA_INVALID \\S*config\\.yaml:2:\\d+ ${path.replaceAll('.', '\\.')}: `),
      run.stderr,
    );
  }
});
