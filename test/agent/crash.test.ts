import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvmAsync, tempHome } from '../helpers/dvm.ts';

test('SIGKILL of dvm serve under load: retries never run an action twice or hang, and the audit holds', async () => {
  const deliveries = new Map<string, number>();
  const hook = createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      const id = String((JSON.parse(data || '{}') as { message?: string }).message);
      deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const env = { DVM_NOTIFY_ALERT_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alert` };
  const home = tempHome();
  const operator = createToken(home, 'op', 'operator');
  const admin = createToken(home, 'root', 'admin');
  const send = (url: string, id: string) =>
    api(url, 'POST', '/v1/actions/execute', {
      token: operator,
      body: { request_id: id, action: 'notify.alert', params: { message: id }, target: { env: 'dev' } },
      signal: AbortSignal.timeout(15_000),
    });
  let serve = await startServe(home, env);
  const sent: string[] = [];
  const ok = new Set<string>();
  let stop = false;
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const id = `w${w}-${i}`;
      sent.push(id);
      try {
        if ((await send(serve.url, id)).status === 200) ok.add(id);
      } catch {
        // the server died under this request
      }
    }
  };
  try {
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    await sleep(1000);
    await serve.stop('SIGKILL');
    stop = true;
    await Promise.all(workers);
    serve = await startServe(home, env);
    for (const id of sent) {
      const retry = await send(serve.url, id); // a hang here fails the test through the 15 s timeout
      if (retry.status === 200) ok.add(id);
      else
        assert.equal(
          retry.body.code,
          'DVM_EXECUTION_INTERRUPTED',
          `${id}: ${retry.status} ${JSON.stringify(retry.body)}`,
        );
    }
    assert.ok(sent.length > 50, `${sent.length} requests sent`);
    const twice = sent.filter((id) => (deliveries.get(id) ?? 0) > 1);
    assert.deepEqual(twice, [], 'no request id ran twice');
    const audit = await api(serve.url, 'GET', '/v1/audit?decision=executed&limit=1000', { token: admin });
    const executed = new Set((audit.body.items as { requestId: string }[]).map((e) => e.requestId));
    assert.deepEqual(
      [...ok].filter((id) => !executed.has(id)),
      [],
      'every 2xx has its audit entry',
    );
    await serve.stop();
    const verify = await dvmAsync(home, ['audit', 'verify']);
    assert.equal(verify.status, 0, verify.stderr);
  } finally {
    await serve.stop();
    hook.close();
  }
});
