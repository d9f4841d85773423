import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, createToken, startServe, useTwoPersonRule } from '../helpers/agent-server.ts';
import { dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';
import { dvmPty, HAS_SCRIPT } from '../helpers/pty.ts';

const NO_DOCKER = 'unix:///nonexistent/dvm-test.sock';

test('dvm action approve shows what a challenge runs and approves it as a second principal, through the agent or in-process as local; refusals are audited', async () => {
  const home = tempHome();
  useTwoPersonRule(home);
  const alice = createToken(home, 'alice', 'operator');
  const bob = createToken(home, 'bob', 'operator');
  // No Docker here: an approved request gets past policy and fails connecting, which is all this test needs.
  const serve = await startServe(home, { DOCKER_HOST: NO_DOCKER });
  const as = (token: string) => ({
    env: { DVM_SERVER: serve.url, DVM_TOKEN: token, DOCKER_HOST: NO_DOCKER },
  });
  const restart = ['action', 'run', 'docker.restart_container', '--param', 'container=web', '--env', 'prod'];
  const challenge = async () => {
    const asked = await dvmAsync(home, [...restart, '--yes'], as(alice));
    assert.match(asked.stderr, /DVM_CONFIRMATION_REQUIRED: .*second principal/);
    const token = /dvmc_[A-Za-z0-9_-]{43}/.exec(asked.stderr)?.[0] as string;
    assert.match(asked.stderr, new RegExp(`dvm action approve ${token}`), 'the fix names the command');
    return token;
  };
  try {
    for (const [approver, options] of [
      ['bob', as(bob)],
      ['local', { env: { DOCKER_HOST: NO_DOCKER } }],
    ] as const) {
      const token = await challenge();
      // Not on a terminal and no --yes: nothing is approved.
      const unasked = await dvmAsync(home, ['action', 'approve', token], options);
      assert.equal(unasked.status, 1);
      assert.match(unasked.stderr, /docker\.restart_container@1\.0\.0 on env=prod/, 'what it would run');
      assert.match(unasked.stderr, /params: +\{"container":"web",/);
      assert.match(unasked.stderr, /requested by: alice \(request cli-/);
      assert.match(unasked.stderr, /DVM_CONFIRMATION_REQUIRED: approving docker\.restart_container/);
      const pending = await api(serve.url, 'POST', '/v1/confirmations/lookup', {
        token: bob,
        body: { confirmation_token: token },
      });
      assert.equal(pending.body.approved_by, undefined, `${approver}: not approved without a yes`);

      const approved = await dvmAsync(home, ['action', 'approve', token, '--yes', '-o', 'json'], options);
      assert.equal(approved.status, 0, approved.stderr);
      assert.deepEqual(
        [JSON.parse(approved.stdout).approved, JSON.parse(approved.stdout).approved_by],
        [true, approver],
      );
      const ran = await dvmAsync(home, [...restart, '--confirmation-token', token], as(alice));
      assert.doesNotMatch(ran.stderr, /CONFIRMATION/, `${approver}: ${ran.stderr}`);
      assert.match(ran.stderr, /DVM_CONNECTOR_UNAVAILABLE/, `${approver} approved it: it ran`);
    }

    if (HAS_SCRIPT) {
      // On a terminal it asks: anything but yes leaves the confirmation pending; yes approves it.
      const token = await challenge();
      const asked = (keys: string) =>
        dvmPty(home, ['action', 'approve', token], {
          ...as(bob),
          keys,
          typeWhen: (output) => output.includes('Type "yes"'),
        });
      const no = await asked('no\r');
      assert.equal(no.status, 1, no.output);
      assert.match(no.output, /DVM_CANCELLED: not approved; the confirmation stays pending/);
      const yes = await asked('yes\r');
      assert.equal(yes.status, 0, yes.output);
      assert.match(yes.output, /approved docker\.restart_container@1\.0\.0 on env=prod for alice \(as bob\)/);
    }

    const own = await challenge();
    const self = await dvmAsync(home, ['action', 'approve', own, '--yes'], as(alice));
    assert.equal(self.status, 1);
    assert.match(self.stderr, /DVM_CONFIRMATION_INVALID: a principal cannot approve its own request/);
    const text = await dvmAsync(home, ['action', 'approve', own, '--yes'], as(bob));
    assert.match(
      text.stdout,
      /^approved docker\.restart_container@1\.0\.0 on env=prod for alice \(as bob\); /,
    );
    const unknown = await dvmAsync(home, ['action', 'approve', `dvmc_${'A'.repeat(43)}`, '--yes'], as(bob));
    assert.match(unknown.stderr, /DVM_CONFIRMATION_INVALID/);

    const approvals = dvmOk(home, ['audit', 'export', '--action', 'docker.restart_container'])
      .stdout.trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((e: { reasons?: string[] }) => e.reasons?.some((r) => /approved? the confirmation/.test(r)));
    assert.deepEqual(
      approvals.map((e: { actor: string; decision: string }) => [e.actor, e.decision]),
      [
        ['bob', 'allowed'],
        ['local', 'allowed'],
        ...(HAS_SCRIPT ? [['bob', 'allowed']] : []),
        ['alice', 'denied'],
        ['bob', 'allowed'],
      ],
    );
  } finally {
    await serve.stop();
  }
});

test('dvm action approvals lists what waits for a second principal (ids, never tokens); approve takes an id or a unique prefix of it', async () => {
  const home = tempHome();
  useTwoPersonRule(home);
  const alice = createToken(home, 'alice', 'operator');
  const bob = createToken(home, 'bob', 'operator');
  const viewer = createToken(home, 'vic', 'viewer');
  const serve = await startServe(home, { DOCKER_HOST: NO_DOCKER });
  const as = (token: string) => ({
    env: { DVM_SERVER: serve.url, DVM_TOKEN: token, DOCKER_HOST: NO_DOCKER },
  });
  const restart = ['action', 'run', 'docker.restart_container', '--param', 'container=web', '--env', 'prod'];
  try {
    const none = await dvmAsync(home, ['action', 'approvals'], as(bob));
    assert.equal(none.status, 0, none.stderr);
    assert.equal(none.stderr, 'No confirmations are waiting for approval.\n');

    const asked = await dvmAsync(home, [...restart, '--yes'], as(alice));
    const token = /dvmc_[A-Za-z0-9_-]{43}/.exec(asked.stderr)?.[0] as string;
    assert.ok(token, asked.stderr);
    // A challenge that needs no second principal (dev needs none; stage needs only the requester's yes) is not listed.
    const own = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: alice,
      body: {
        request_id: 'stage-1',
        action: 'docker.restart_container',
        params: { container: 'web' },
        target: { env: 'stage' },
      },
    });
    assert.equal(own.status, 428, own.text);

    const listed = await api(serve.url, 'GET', '/v1/confirmations', { token: bob });
    assert.equal(listed.status, 200, listed.text);
    const items = listed.body.items as {
      id: string;
      action: string;
      requested_by: string;
      target: { env: string };
    }[];
    assert.deepEqual(
      items.map((i) => [i.action, i.requested_by, i.target.env]),
      [['docker.restart_container', 'alice', 'prod']],
    );
    assert.match(items[0].id, /^[0-9a-f]{64}$/);
    assert.ok(!listed.text.includes(token), 'the list never shows a token');
    assert.equal((await api(serve.url, 'GET', '/v1/confirmations', { token: viewer })).status, 403);
    const bad = await api(serve.url, 'GET', '/v1/confirmations?mine=1', { token: bob });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'DVM_QUERY_INVALID');

    const table = await dvmAsync(home, ['action', 'approvals'], as(bob));
    assert.match(table.stdout, /^ID +ACTION +TARGET +PARAMS +REQUESTED BY +REQUEST +EXPIRES IN\n/);
    const prefix = items[0].id.slice(0, 12);
    assert.match(
      table.stdout,
      new RegExp(
        `^${prefix} +docker\\.restart_container@1\\.0\\.0 +env=prod +\\{"container":"web",.* alice +cli-`,
        'm',
      ),
    );

    // An id is no token: it cannot run the request.
    const byId = await dvmAsync(home, [...restart, '--confirmation-token', items[0].id], as(alice));
    assert.match(
      byId.stderr,
      /DVM_CONFIRMATION_INVALID: the confirmation token is not a dvm confirmation token/,
    );

    const both = await api(serve.url, 'POST', '/v1/confirmations/approve', {
      token: bob,
      body: { confirmation_token: token, confirmation_id: items[0].id },
    });
    assert.equal(both.status, 422);
    assert.equal(both.body.code, 'DVM_REQUEST_INVALID');
    const self = await dvmAsync(home, ['action', 'approve', prefix, '--yes'], as(alice));
    assert.match(self.stderr, /DVM_CONFIRMATION_INVALID: a principal cannot approve its own request/);
    const approved = await dvmAsync(home, ['action', 'approve', prefix, '--yes'], as(bob));
    assert.equal(approved.status, 0, approved.stderr);
    assert.match(
      approved.stdout,
      /^approved docker\.restart_container@1\.0\.0 on env=prod for alice \(as bob\); a pipeline task waiting for it runs now, a request from the CLI or the API is sent again with --confirmation-token and its token\n$/,
    );
    const again = await dvmAsync(home, ['action', 'approve', prefix, '--yes'], as(bob));
    assert.match(
      again.stdout,
      /^already approved \(nothing changed\): docker\.restart_container/,
      again.stderr,
    );
    assert.deepEqual(
      (await api(serve.url, 'GET', '/v1/confirmations', { token: bob })).body.items,
      [],
      'approved: no longer waiting',
    );

    const ran = await dvmAsync(home, [...restart, '--confirmation-token', token], as(alice));
    assert.doesNotMatch(ran.stderr, /CONFIRMATION/, ran.stderr);
    assert.match(ran.stderr, /DVM_CONNECTOR_UNAVAILABLE/, 'approved by id: it ran');
    const unknown = await dvmAsync(home, ['action', 'approve', 'deadbeefdeadbeef', '--yes'], as(bob));
    assert.match(unknown.stderr, /DVM_CONFIRMATION_INVALID: the confirmation id is unknown/);
  } finally {
    await serve.stop();
  }
});

test("under the two-person rule a token approves the local user's exec: the approver vouches for a run through the requester's channel", async (t) => {
  const home = tempHome();
  useTwoPersonRule(home);
  const admin = createToken(home, 'boss', 'admin');
  const serve = await startServe(home);
  t.after(() => serve.stop());
  const run = ['action', 'run', 'exec', '--param', 'command=true', '--env', 'prod', '--yes'];
  const asked = await dvmAsync(home, run);
  assert.match(asked.stderr, /DVM_CONFIRMATION_REQUIRED: .*second principal/);
  const token = /dvmc_[A-Za-z0-9_-]{43}/.exec(asked.stderr)?.[0] as string;
  // Tokens may not run exec themselves (host-commands-local-only), but they may vouch for the local user's.
  const approved = await api(serve.url, 'POST', '/v1/confirmations/approve', {
    token: admin,
    body: { confirmation_token: token },
  });
  assert.equal(approved.status, 200, approved.text);
  const ran = await dvmAsync(home, [...run.slice(0, -1), '--confirmation-token', token]);
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(ran.stderr, /exec@\S+ succeeded/);
});
