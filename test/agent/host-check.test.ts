import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { tempHome } from '../helpers/dvm.ts';
import { waitFor } from '../helpers/wait.ts';

// A GET to the server at `url` carrying the Host header `host` (what a browser sends for a page's own name).
function getAs(
  url: string,
  path: string,
  host: string,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        path,
        headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject).end();
  });
}

test('an agent on loopback answers only its own names (DNS rebinding): another Host is 421 DVM_HOST_NOT_ALLOWED, health and with a token too (audited); agent.allowed_hosts adds names, reloaded', async () => {
  const home = tempHome();
  const config = join(home, 'config.yaml');
  const admin = createToken(home, 'root', 'admin');
  const serve = await startServe(home);
  const { port } = new URL(serve.url);
  try {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
      assert.equal((await getAs(serve.url, '/v1/health', host)).status, 200, host);

    const rebound = await getAs(serve.url, '/v1/health', `evil.example:${port}`);
    assert.equal(rebound.status, 421);
    assert.equal(rebound.body.code, 'DVM_HOST_NOT_ALLOWED');
    assert.match(String(rebound.body.message), /Host "evil\.example:\d+" is not a name of this agent/);
    assert.match(
      String((rebound.body.details as { fix: string }).fix),
      /add it to agent\.allowed_hosts in config\.yaml, e\.g\. agent: \{allowed_hosts: \["evil\.example"\]\}/,
    );
    const withToken = await getAs(serve.url, '/v1/actions', `evil.example:${port}`, admin);
    assert.equal(withToken.status, 421, 'a valid token does not make a foreign Host right');

    const audit = await api(serve.url, 'GET', '/v1/audit?decision=denied', { token: admin });
    const refusals = (audit.body.items as { actor: string; route: string; error?: { code: string } }[])
      .filter((e) => e.error?.code === 'DVM_HOST_NOT_ALLOWED')
      .map((e) => [e.actor, e.route]);
    assert.deepEqual(refusals, [
      ['anonymous', 'GET /v1/health'],
      ['anonymous', 'GET /v1/actions'],
    ]);

    writeFileSync(config, 'agent:\n  allowed_hosts: [evil.example, .dvm.example.com]\n');
    await waitFor('the reload', () =>
      /config\.yaml reloaded: .*allowed hosts evil\.example, \.dvm\.example\.com/.test(serve.output()),
    );
    for (const host of [`evil.example:${port}`, 'dvm.example.com', 'agent.dvm.example.com'])
      assert.equal((await getAs(serve.url, '/v1/health', host)).status, 200, host);
    assert.equal((await getAs(serve.url, '/v1/health', 'other.example')).status, 421);
  } finally {
    await serve.stop();
  }
});

test('an agent on 0.0.0.0 answers any Host on its reachable address until agent.allowed_hosts is set, then only those names, loopback and its address; over loopback only loopback names', async () => {
  // This machine's address on a network (not loopback): where other machines reach a 0.0.0.0 agent.
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  assert.ok(lan, 'a network address to reach the agent by (this machine has only loopback)');
  const home = tempHome();
  const config = join(home, 'config.yaml');
  const serve = await startServe(home, {}, ['--listen', '0.0.0.0:0', '--insecure-http']);
  const { port } = new URL(serve.url);
  const reachable = `http://${lan}:${port}`;
  const local = `http://127.0.0.1:${port}`;
  try {
    assert.equal((await getAs(reachable, '/v1/health', 'anything.example')).status, 200);
    // Over loopback, a foreign name is how DNS rebinding reaches even a 0.0.0.0 agent: refused.
    const rebound = await getAs(local, '/v1/health', 'anything.example');
    assert.equal(rebound.status, 421);
    assert.match(String(rebound.body.message), /arrived at a loopback address/);
    writeFileSync(config, 'agent:\n  allowed_hosts: [dvm.example.com]\n');
    await waitFor('the reload', () =>
      /config\.yaml reloaded: .*allowed hosts dvm\.example\.com/.test(serve.output()),
    );
    const refused = await getAs(reachable, '/v1/health', 'anything.example');
    assert.equal(refused.status, 421);
    assert.doesNotMatch(String(refused.body.message), /loopback/, 'not said to have come over loopback');
    for (const host of ['dvm.example.com:8700', 'localhost', '127.0.0.1', `${lan}:${port}`])
      assert.equal((await getAs(reachable, '/v1/health', host)).status, 200, host);
    assert.equal(
      (await getAs(local, '/v1/health', 'dvm.example.com')).status,
      200,
      'an allowed name over loopback',
    );
  } finally {
    await serve.stop();
  }
});
