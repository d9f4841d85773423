import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { parseEventStream } from '../../src/agent/client/sse-client.ts';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvmAsync, tempHome } from '../helpers/dvm.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';

const home = tempHome();
const name = `dvm-api-${process.pid}`;
const docker = (...args: string[]) =>
  execFileSync('docker', ['-H', TEST_DOCKER_HOST, ...args], { encoding: 'utf8' }).trim();
after(() => {
  try {
    docker('rm', '-f', name);
  } catch {}
});

test('through the API: docker.logs follow answers 202 and streams lines over SSE; a restart in prod needs confirmation', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  docker(
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'none',
    'local/busybox:1',
    'sh',
    '-c',
    'i=0; while true; do i=$((i+1)); echo line$i; sleep 0.1; done',
  );
  const operator = createToken(home, 'op', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    const health = await api(serve.url, 'GET', '/v1/health');
    assert.equal((health.body.connectors as Record<string, { status: string }>).docker.status, 'ok');

    const accepted = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: operator,
      body: {
        request_id: 'follow-1',
        action: 'docker.logs',
        params: { container: name, tail: 0, follow: true },
        target: { env: 'dev' },
        timeout: '2s',
      },
    });
    assert.equal(accepted.status, 202, accepted.text);
    const response = await fetch(new URL(String(accepted.body.events), serve.url), {
      headers: { authorization: `Bearer ${operator}` },
    });
    const events = [];
    for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>))
      events.push(event);
    const logs = events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).line);
    assert.ok(logs.length >= 5, `${logs.length} lines streamed`);
    assert.ok(
      logs.every((l, i) => i === 0 || Number(l.slice(4)) === Number(logs[i - 1].slice(4)) + 1),
      'in order, none lost',
    );
    assert.equal(events.at(-1)?.event, 'completed', 'the 2 s timeout ends the follow with what it gathered');
    const summary = JSON.parse(events.at(-1)?.data ?? '{}').result.summary;
    assert.equal(summary.followed, true);
    assert.equal(summary.lines, logs.length);

    const restart = {
      request_id: 'restart-1',
      action: 'docker.restart_container',
      params: { container: name, timeoutSeconds: 0 },
      target: { env: 'prod' },
    };
    const challenge = await api(serve.url, 'POST', '/v1/actions/execute', { token: operator, body: restart });
    assert.equal(challenge.status, 428);
    const before = docker('inspect', '-f', '{{.State.StartedAt}}', name);
    const cli = await dvmAsync(
      home,
      [
        'action',
        'run',
        'docker.restart_container',
        '--param',
        `container=${name}`,
        '--param',
        'timeoutSeconds=0',
        '--env',
        'prod',
        '--yes',
      ],
      {
        env: { DVM_SERVER: serve.url, DVM_TOKEN: operator },
      },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.notEqual(docker('inspect', '-f', '{{.State.StartedAt}}', name), before);
  } finally {
    await serve.stop();
  }
});
