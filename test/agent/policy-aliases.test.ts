import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { docker, removeContainers, startBusybox } from '../helpers/docker.ts';
import { dvm, tempHome } from '../helpers/dvm.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';

const frozen = `dvm-frozen-${process.pid}`;
after(() => removeContainers(frozen));

// An admin freezes one container by its name, as the README says to scope a rule: by what the action acts on.
const FREEZE = `@id("freeze-${frozen}")
@reason("${frozen} is frozen")
forbid (principal, action, resource)
when { context.params.hasTag("container") && context.params.getTag("container") == "${frozen}" };
`;

// A home whose policies freeze the container by its name.
function frozenHome(): string {
  const home = tempHome();
  mkdirSync(join(home, 'policies'));
  writeFileSync(join(home, 'policies', 'freeze.cedar'), FREEZE);
  return home;
}

test('a forbid on a container name holds when the request names it by its id or an id prefix (Docker resolves all three)', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const id = startBusybox(frozen, 'sleep 600');
  const home = frozenHome();
  const operator = createToken(home, 'op', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    const startedAt = docker('inspect', '-f', '{{.State.StartedAt}}', frozen);
    for (const [n, container] of [frozen, id, id.slice(0, 12), id.slice(0, 6)].entries()) {
      const restart = await api(serve.url, 'POST', '/v1/actions/execute', {
        token: operator,
        body: {
          request_id: `restart-${n}`,
          action: 'docker.restart_container',
          params: { container, timeoutSeconds: 0 },
          target: { env: 'dev' },
        },
      });
      assert.equal(restart.status, 403, `${container}: ${restart.text}`);
      assert.match(String(restart.body.message), new RegExp(`${frozen} is frozen`));
      const logs = await api(serve.url, 'POST', '/v1/actions/execute', {
        token: operator,
        body: {
          request_id: `logs-${n}`,
          action: 'docker.logs',
          params: { container },
          target: { env: 'dev' },
        },
      });
      assert.equal(logs.status, 403, `${container}: ${logs.text}`);
    }
    assert.equal(docker('inspect', '-f', '{{.State.StartedAt}}', frozen), startedAt, 'never restarted');
    // The audit names what the policy decided on: the container's name, whichever alias was sent.
    const audit = await api(serve.url, 'GET', '/v1/audit?action=docker.restart_container&decision=denied', {
      token: createToken(home, 'boss', 'admin'),
    });
    const denied = audit.body.items as { params: { container: string } }[];
    assert.equal(denied.length, 4);
    assert.ok(
      denied.every((e) => e.params.container === frozen),
      JSON.stringify(denied),
    );
  } finally {
    await serve.stop();
  }
  // dvm policy test decides as the agent does, and says what it decided on.
  const tested = dvm(
    home,
    [
      'policy',
      'test',
      '--principal',
      'role:operator',
      '--action',
      'docker.restart_container',
      '--param',
      `container=${id.slice(0, 12)}`,
    ],
    { env: { DOCKER_HOST: TEST_DOCKER_HOST } },
  );
  assert.equal(tested.status, 1, tested.stdout + tested.stderr);
  assert.match(tested.stdout, new RegExp(`^DENY.*${frozen} is frozen`, 's'));
  assert.match(
    tested.stderr,
    new RegExp(`note: decided on what the params name, as the agent does: container="${frozen}"`),
  );
});

test('a request for an unfrozen container by its id prefix runs on it, and a retry of its request_id is answered from the first', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const open = `${frozen}-open`;
  const id = startBusybox(open, 'echo hello-from-open; sleep 600');
  const home = frozenHome();
  const operator = createToken(home, 'op', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    const body = {
      request_id: 'logs-open',
      action: 'docker.logs',
      params: { container: id.slice(0, 12) },
      target: { env: 'dev' },
    };
    const logs = await api(serve.url, 'POST', '/v1/actions/execute', { token: operator, body });
    assert.equal(logs.status, 200, logs.text);
    const result = logs.body.result as { summary: { container: string }; artifact: { content: string } };
    assert.equal(result.summary.container, open);
    assert.match(result.artifact.content, /hello-from-open/);
    // The request_id stays bound to what was sent: the same body is the first answer, the name instead a conflict.
    const again = await api(serve.url, 'POST', '/v1/actions/execute', { token: operator, body });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, logs.body);
    const renamed = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: operator,
      body: { ...body, params: { container: open } },
    });
    assert.equal(renamed.status, 409, renamed.text);
  } finally {
    await serve.stop();
    removeContainers(open);
  }
});

test('an id prefix several containers share is refused (409 DVM_AMBIGUOUS) before any decision, never run as sent', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  // Containers (created, never started) until two ids share their first hex digit: at most 17.
  const names: string[] = [];
  const firstOf = new Map<string, string>();
  let shared: string | undefined;
  for (let i = 0; shared === undefined && i < 17; i++) {
    names.push(`${frozen}-amb-${i}`);
    const id = docker('create', '--network', 'none', '--name', names[i] ?? '', 'local/busybox:1', 'true');
    if (firstOf.has(id[0] ?? '')) shared = id[0];
    firstOf.set(id[0] ?? '', id);
  }
  const home = frozenHome();
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    assert.ok(shared, 'two of 17 ids share a first digit');
    const restart = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: createToken(home, 'op', 'operator'),
      body: {
        request_id: 'restart-ambiguous',
        action: 'docker.restart_container',
        params: { container: shared, timeoutSeconds: 0 },
        target: { env: 'dev' },
      },
    });
    assert.equal(restart.status, 409, restart.text);
    assert.equal(restart.body.code, 'DVM_AMBIGUOUS');
    assert.equal((restart.body.details as { path: string }).path, 'container');
    assert.match(
      String(restart.body.message),
      new RegExp(`"${shared}" is the start of several containers' ids`),
    );
    for (const name of names) assert.equal(docker('inspect', '-f', '{{.State.Status}}', name), 'created');
  } finally {
    await serve.stop();
    removeContainers(...names);
  }
});

test('dvm policy test says when it cannot tell what a container param names (Docker unreachable), decides on it as given and exits 1', () => {
  const home = frozenHome();
  const args = ['policy', 'test', '--principal', 'role:operator', '--action', 'docker.restart_container'];
  const env = { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } };
  const byAlias = dvm(home, [...args, '--param', 'container=3f2a9c'], env);
  // Decided on the params as given, and exit 1: the agent would refuse the request (503) until it can tell.
  assert.equal(byAlias.status, 1, byAlias.stdout + byAlias.stderr);
  assert.match(byAlias.stdout, /^ALLOW/);
  assert.match(
    byAlias.stderr,
    /note: cannot tell what the params of docker\.restart_container name .*: decided on the params as given; the agent refuses such a request until it can tell \(exit 1\)/,
  );
  const json = dvm(home, [...args, '--param', 'container=3f2a9c', '-o', 'json'], env);
  assert.equal(json.status, 1);
  assert.match(
    JSON.parse(json.stdout).unresolved,
    /cannot tell what the params of docker\.restart_container name/,
  );
  const byName = dvm(home, [...args, '--param', `container=${frozen}`], env);
  assert.equal(byName.status, 1);
  assert.match(byName.stdout, /^DENY/);
});
