import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseEventStream } from '../../src/agent/client/sse-client.ts';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvmOk, tempHome } from '../helpers/dvm.ts';

// Values no redaction pattern recognises by their shape: only the key names they sit under mark them secret.
const SECRETS = ['hunter2param', 'abc123xyzsecret', 'tgtpw-hunter3', 'tgtcred-zz9'];

const received: unknown[] = [];
const hook = createServer((req: IncomingMessage, res) => {
  let data = '';
  req.on('data', (d) => (data += d));
  req.on('end', () => {
    received.push(JSON.parse(data || 'null'));
    res.writeHead(200).end('ok');
  });
});
after(() => hook.close());

function leaks(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s));
}

test('secret-named params and target fields never reach the audit, the stores, SSE or the answers; the action gets them', async () => {
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const home = tempHome();
  const operator = createToken(home, 'op', 'operator');
  const serve = await startServe(home, {
    DVM_NOTIFY_ALERT_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alert`,
  });
  try {
    const body = {
      request_id: 'secret-1',
      action: 'notify.alert',
      params: { message: 'rotate', password: SECRETS[0], api_key: SECRETS[1] },
      target: { env: 'dev', password: SECRETS[2], credentials: { user: 'ops', pass: SECRETS[3] } },
    };
    const execute = (b: unknown) =>
      api(serve.url, 'POST', '/v1/actions/execute', { token: operator, body: b });
    const first = await execute(body);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(leaks(JSON.stringify(received)), SECRETS.slice(0, 2), 'the action got the real params');
    const answers = [
      first.text,
      (await execute(body)).text,
      (await execute({ ...body, request_id: 'secret-dry', dry_run: true })).text,
      (await api(serve.url, 'GET', `/v1/executions/${first.body.execution_id}`, { token: operator })).text,
    ];
    // In prod it needs confirmation: the challenge, its stored request and its lookup show the target redacted.
    const challenge = await execute({
      ...body,
      request_id: 'secret-prod',
      target: { ...body.target, env: 'prod' },
    });
    assert.equal(challenge.status, 428, challenge.text);
    answers.push(challenge.text);
    const lookup = await api(serve.url, 'POST', '/v1/confirmations/lookup', {
      token: operator,
      body: {
        confirmation_token: (challenge.body.details as { challenge: { confirmation_token: string } })
          .challenge.confirmation_token,
      },
    });
    assert.equal(lookup.status, 200, lookup.text);
    answers.push(lookup.text);
    const events = await fetch(new URL(`/v1/executions/${first.body.execution_id}/events`, serve.url), {
      headers: { authorization: `Bearer ${operator}` },
    });
    for await (const event of parseEventStream(events.body as AsyncIterable<Uint8Array>))
      answers.push(event.data);
    for (const answer of answers) assert.deepEqual(leaks(answer), [], answer);
    assert.match(answers[2], /"password":"\[REDACTED\]"/, 'the dry run shows which params were redacted');
  } finally {
    await serve.stop();
  }
  const exported = dvmOk(home, ['audit', 'export']).stdout;
  assert.deepEqual(leaks(exported), [], exported);
  const params = JSON.parse(exported.split('\n')[0]).params;
  assert.deepEqual(params, { message: 'rotate', password: '[REDACTED]', api_key: '[REDACTED]' });
  for (const file of readdirSync(home).filter((f) => f.startsWith('agent.db'))) {
    assert.deepEqual(leaks(readFileSync(join(home, file), 'latin1')), [], `${file} holds no secret`);
  }
});
