import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createToken, startServe } from '../helpers/agent-server.ts';
import { dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';

test('dvm action describe shows what --param takes, in-process and through the agent; list -o json is the same catalog both ways', async () => {
  const home = tempHome();
  const viewer = createToken(home, 'viewer', 'viewer');
  const serve = await startServe(home);
  try {
    const remote = { env: { DVM_SERVER: serve.url, DVM_TOKEN: viewer } };
    const local = dvmOk(home, ['action', 'describe', 'docker.logs']).stdout;
    assert.match(local, /^docker\.logs 1\.0\.0 \(read\)$/m);
    assert.match(local, /^timeout: 30s by default, at most 1h \(--timeout\)$/m);
    assert.match(local, /^container +string +yes +Container name or id\.$/m);
    // tail's default depends on since, so the description says it (a schema default would hide "not given").
    assert.match(
      local,
      /^tail +integer +no +Lines from the end; when not given, 100, or every line since `since` when that is given\. \(0–10000\)$/m,
    );
    const viaAgent = await dvmAsync(home, ['action', 'describe', 'docker.logs'], remote);
    assert.equal(viaAgent.stdout, local, 'the agent describes it the same way');
    assert.match(dvmOk(home, ['action', 'describe', 'system.info']).stdout, /^parameters: none$/m);

    const entry = JSON.parse(dvmOk(home, ['action', 'describe', 'docker.logs', '-o', 'json']).stdout);
    assert.deepEqual(Object.keys(entry).sort(), [
      'description',
      'input_schema',
      'name',
      'output_schema',
      'risk',
      'timeouts',
      'version',
    ]);
    const listed = JSON.parse(dvmOk(home, ['action', 'list', '-o', 'json']).stdout);
    const listedRemote = JSON.parse((await dvmAsync(home, ['action', 'list', '-o', 'json'], remote)).stdout);
    assert.deepEqual(listed, listedRemote, 'one catalog shape, local or remote');
    assert.deepEqual(
      listed.actions.find((a: { name: string }) => a.name === 'docker.logs'),
      entry,
    );

    const unknown = dvm(home, ['action', 'describe', 'docker.log']);
    assert.equal(unknown.status, 1);
    assert.match(
      unknown.stderr,
      /DVM_ACTION_UNKNOWN: no action is named "docker\.log" \(did you mean "docker\.logs"\?\)/,
    );
  } finally {
    await serve.stop();
  }
});

test('NAME@VERSION pins an action version for dvm action run and describe, in-process and through the agent', async () => {
  const home = tempHome();
  const operator = createToken(home, 'op', 'operator');
  const serve = await startServe(home);
  try {
    const remote = { env: { DVM_SERVER: serve.url, DVM_TOKEN: operator } };
    const local = JSON.parse(dvmOk(home, ['action', 'run', 'system.info@1.0.0', '-o', 'json']).stdout);
    assert.equal(local.version, '1.0.0');
    const viaAgent = await dvmAsync(home, ['action', 'run', 'system.info@1.0.0', '-o', 'json'], remote);
    assert.equal(viaAgent.status, 0, viaAgent.stderr);
    assert.equal(JSON.parse(viaAgent.stdout).version, '1.0.0');
    assert.match(
      dvmOk(home, ['action', 'describe', 'docker.logs@1.0.0']).stdout,
      /^docker\.logs 1\.0\.0 \(read\)$/m,
    );
    for (const env of [{}, remote]) {
      const wrong = await dvmAsync(home, ['action', 'run', 'system.info@9.9.9'], env);
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /DVM_ACTION_UNKNOWN: action "system\.info" has no version 9\.9\.9/);
    }
  } finally {
    await serve.stop();
  }
});
