import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

test('dvm serve prunes ended executions past config.yaml agent.retention (with their request ids), never the audit', async () => {
  const home = tempHome();
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  retention: 1s\n');
  const ran = JSON.parse(dvmOk(home, ['action', 'run', 'system.info', '--env', 'dev', '-o', 'json']).stdout);
  const auditBefore = dvmOk(home, ['audit', 'export']).stdout.trim().split('\n').length;
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const token = createToken(home, 'admin', 'admin');
  const serve = await startServe(home);
  try {
    for (let i = 0; i < 100 && !/pruned \d/.test(serve.output()); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(
      serve.output(),
      /pruned 1 execution\(s\), 1 request id\(s\) and 0 confirmation\(s\) older than 1s \(config\.yaml agent\.retention\)/,
    );
    const gone = await api(serve.url, 'GET', `/v1/executions/${ran.execution_id}`, { token });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 'DVM_EXECUTION_NOT_FOUND');
  } finally {
    await serve.stop();
  }
  const auditAfter = dvmOk(home, ['audit', 'export']).stdout.trim().split('\n').length;
  assert.ok(auditAfter >= auditBefore, 'the audit log kept every entry');
  assert.equal(dvm(home, ['audit', 'verify']).status, 0);
});

test('an agent.retention that is no duration stops dvm serve at start with DVM_SCHEMA_INVALID naming it', () => {
  const home = tempHome();
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  retention: forever\n');
  const serve = dvm(home, ['serve', '--listen', '127.0.0.1:0'], { timeoutMs: 10_000 });
  assert.equal(serve.status, 1, serve.stderr);
  assert.match(
    serve.stderr,
    /DVM_SCHEMA_INVALID \S+config\.yaml:2:\d+ .*agent\.retention must be a positive duration of at most 100 years, not "forever"/,
  );
});
