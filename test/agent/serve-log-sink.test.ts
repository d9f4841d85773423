import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { tempHome } from '../helpers/dvm.ts';

test('dvm serve outlives its log sink: with its stdout pipe closed it logs to stderr and goes on serving', async () => {
  const home = tempHome();
  const admin = createToken(home, 'root', 'admin');
  const serve = await startServe(home);
  let stderr = '';
  serve.child.stderr?.on('data', (d) => (stderr += d));
  try {
    // `dvm serve | logger`, and the logger goes away: the next log line meets a closed pipe (EPIPE).
    serve.child.stdout?.destroy();
    mkdirSync(join(home, 'policies'));
    writeFileSync(
      join(home, 'policies', 'freeze.cedar'),
      '@id("freeze")\nforbid (principal, action, resource) when { resource.env == "prod" };\n',
    );
    for (let i = 0; i < 60 && !/policies reloaded/.test(stderr); i++) await sleep(100);
    assert.equal(serve.child.exitCode, null, `still running; stderr: ${stderr}`);
    assert.match(
      stderr,
      /error DVM_IO_ERROR: the log output failed \(EPIPE\); log lines go to stderr from now on/,
    );
    assert.match(stderr, /policies reloaded: \d+ policies from 2 file\(s\)/);
    const info = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: admin,
      body: { request_id: 'after-the-pipe', action: 'system.info', target: { env: 'dev' } },
    });
    assert.equal(info.status, 200, info.text);
  } finally {
    assert.equal(await serve.stop(), 0);
  }
  assert.match(stderr, /serve stopping \(SIGTERM\)/);
});
