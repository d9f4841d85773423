import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { Agent } from 'undici';
import { useFakeKubeApi } from '../../../../test/fakes/kube-api-server.ts';
import { DVM_BIN, tempHome } from '../../../../test/helpers/dvm.ts';
import { DvmError } from '../../../errors/dvm-error.ts';
import { kubernetesHealth } from '../../connectors.ts';
import { testContext } from '../../testing.ts';
import { loadKubeConfig } from './client.ts';
import { k8sEventsAction } from './events.ts';
import { k8sPodLogsAction } from './pod-logs.ts';
import { FOLLOW_ERROR_BODY_MAX, followPodLog, type PodLogFollow } from './pod-logs-follow.ts';
import { k8sScaleAction } from './scale.ts';

const { fake, env } = useFakeKubeApi();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits up to `ms` for `ok`, then asserts it with `what`.
async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  for (let i = 0; i < ms / 10 && !ok(); i++) await sleep(10);
  assert.ok(ok(), what);
}

test('Kubernetes 400, 422 and 409 are the caller’s errors with the API’s message, 5xx stays unavailable (fake Kubernetes API)', async () => {
  fake.state.logs['shop/web-1/nosuch'] = 'x\n';
  fake.state.refuse['GET /api/v1/namespaces/shop/pods/web-1/log'] = {
    code: 400,
    reason: 'BadRequest',
    message: 'container nosuch is not valid for pod web-1',
  };
  await assert.rejects(
    k8sPodLogsAction.handler(
      { namespace: 'shop', pod: 'web-1', container: 'nosuch' },
      testContext({ env: env() }),
    ),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID');
      assert.equal(e.httpStatus, 422);
      assert.match(e.message, /400 BadRequest: container nosuch is not valid for pod web-1/);
      assert.deepEqual(e.details, {
        origin: 'user',
        source: 'kubernetes',
        status: 400,
        reason: 'BadRequest',
      });
      return true;
    },
  );
  // The follow asks with its own request: the same answer, the same error.
  await assert.rejects(
    k8sPodLogsAction.handler(
      { namespace: 'shop', pod: 'web-1', container: 'nosuch', follow: true },
      testContext({ env: env() }),
    ),
    { code: 'DVM_ACTION_INPUT_INVALID', message: /container nosuch is not valid/ },
  );
  fake.state.deployments['shop/web'] = 2;
  const scale = 'PUT /apis/apps/v1/namespaces/shop/deployments/web/scale';
  fake.state.refuse[scale] = {
    code: 409,
    reason: 'Conflict',
    message: 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified',
  };
  const run = () =>
    k8sScaleAction.handler(
      { namespace: 'shop', deployment: 'web', replicas: 3 },
      testContext({ env: env() }),
    );
  await assert.rejects(run(), (e: DvmError) => {
    assert.deepEqual([e.code, e.httpStatus, e.details.origin], ['DVM_CONFLICT', 409, 'user']);
    assert.match(e.message, /the object has been modified/);
    assert.match(e.fix ?? '', /again/);
    return true;
  });
  fake.state.refuse[scale] = { code: 422, reason: 'Invalid', message: 'spec.replicas: Invalid value: -1' };
  await assert.rejects(run(), { code: 'DVM_ACTION_INPUT_INVALID', message: /422 Invalid: spec.replicas/ });
  fake.state.refuse[scale] = { code: 503, reason: 'ServiceUnavailable', message: 'etcd is down' };
  await assert.rejects(run(), (e: DvmError) => {
    assert.deepEqual([e.code, e.details.origin], ['DVM_CONNECTOR_UNAVAILABLE', 'system']);
    assert.match(e.message, /503 ServiceUnavailable: etcd is down/);
    return true;
  });
});

test('a Kubernetes RBAC 403 is DVM_FORBIDDEN from the cluster, told apart from dvm’s policy (fake Kubernetes API)', async () => {
  fake.state.refuse['GET /api/v1/namespaces/shop/events'] = {
    code: 403,
    reason: 'Forbidden',
    message: 'events is forbidden: User "dvm" cannot list resource "events" in the namespace "shop"',
  };
  await assert.rejects(
    k8sEventsAction.handler({ namespace: 'shop' }, testContext({ env: env() })),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_FORBIDDEN');
      assert.equal(e.details.source, 'kubernetes');
      assert.equal(e.details.decision, undefined, 'no policy decision: that is dvm’s own denial');
      assert.match(
        e.message,
        /Kubernetes RBAC refused .*cannot list resource "events".*dvm's policy allowed/,
      );
      assert.match(e.fix ?? '', /kubectl auth can-i/);
      return true;
    },
  );
});

test('an aborted call closes its request at once, so the process does not wait for the API (fake Kubernetes API)', async () => {
  fake.state.hang = ['/api/v1/namespaces/slow/events'];
  const timeout = new DvmError('DVM_TIMEOUT', 'k8s.events took longer than 1000 ms');
  const controller = new AbortController();
  const started = Date.now();
  const running = k8sEventsAction.handler(
    { namespace: 'slow' },
    testContext({ env: env(), signal: controller.signal }),
  );
  await until('the request reached the fake', () => fake.hanging() === 1);
  setTimeout(() => controller.abort(timeout), 1000 - (Date.now() - started));
  await assert.rejects(running, { code: 'DVM_TIMEOUT' });
  // Closed on the fake's side, not left open until the API answers.
  await until('the fake saw the connection close', () => fake.hanging() === 0, 1000);
  assert.ok(Date.now() - started < 2500, `${Date.now() - started} ms`);
});

test('dvm action run --timeout 1s against an API that never answers exits DVM_TIMEOUT soon after, its request closed (fake Kubernetes API)', async () => {
  fake.state.hang = ['/api/v1/namespaces/slow/events'];
  const started = Date.now();
  // Killed after 10 s if it still waits for the API (as it did: until the API answered).
  const child = spawn(
    process.execPath,
    [DVM_BIN, 'action', 'run', 'k8s.events', '--param', 'namespace=slow', '--timeout', '1s', '-o', 'json'],
    {
      env: { ...process.env, DVM_HOME: tempHome(), NO_COLOR: '1', KUBECONFIG: fake.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
      killSignal: 'SIGKILL',
    },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const [status, signal] = (await once(child, 'close')) as [number | null, string | null];
  const took = Date.now() - started;
  assert.equal(signal, null, `killed after ${took} ms: it waited for the API`);
  assert.notEqual(status, 0);
  assert.match(output, /DVM_TIMEOUT/);
  assert.equal(fake.hanging(), 0, 'its request was closed');
  // The CLI's own start (Node, the store) included.
  assert.ok(took < 4000, `exited after ${took} ms`);
});

test('a follow has no idle timeout: undici’s body timeout, which ended quiet follows ("terminated"), is off for it (fake Kubernetes API)', async () => {
  const key = 'shop/quiet-1/';
  fake.state.logs[key] = 'first\n';
  // A short stand-in for undici's 300 s: an agent whose bodyTimeout is 300 ms ends a quiet body ("terminated").
  const short = new Agent({ bodyTimeout: 300 });
  const { fetch } = await import('undici');
  const quiet = await fetch(`${fake.url}/api/v1/namespaces/shop/pods/quiet-1/log?follow=true`, {
    headers: { authorization: `Bearer ${fake.token}` },
    dispatcher: short,
  });
  const reader = quiet.body?.getReader();
  await reader?.read();
  await assert.rejects(reader?.read() ?? Promise.resolve(), /terminated/);
  // The follow's request goes through that agent; the body timeout each request carries is recorded.
  const timeouts: unknown[] = [];
  const recorded = short.compose((dispatch) => (options, handler) => {
    timeouts.push(options.bodyTimeout);
    return dispatch(options, handler);
  });
  const config = await loadKubeConfig(env());
  const follow = (more: Partial<PodLogFollow>, lines: string[] = []) =>
    followPodLog(
      config,
      { namespace: 'shop', pod: 'quiet-1', previous: false, tailLines: 0, dispatcher: recorded, ...more },
      testContext({ emit: (e) => e.type === 'log' && lines.push(e.line) }),
    );
  // With an idle timeout given, it breaks off as the tester saw.
  await assert.rejects(follow({ idleTimeoutMs: 300 }), {
    code: 'DVM_CONNECTOR_UNAVAILABLE',
    message: /broke off after \d+ line\(s\): terminated/,
  });
  // By default it outlasts the agent's 300 ms: quiet for 2 s (undici checks body timeouts on a ~0.5 s tick, so a
  // 300 ms one fires within about 1.3 s; the break above took about 1 s), then a line, then the end of the log.
  timeouts.length = 0;
  const lines: string[] = [];
  const following = follow({}, lines);
  await until('the follow is open', () => fake.following(key) === 1);
  await sleep(2000);
  fake.appendLog(key, 'still here');
  await until('the line after the quiet time arrived', () => lines.includes('still here'));
  fake.endLog(key);
  assert.equal((await following).lines, 1);
  // No body timeout at all (0), not a long one: a quiet pod is followed until the action's own timeout or a cancel.
  assert.deepEqual(timeouts, [0]);
  await short.close();
});

test('a follow the API refuses reads at most 64 KiB of its answer (fake Kubernetes API)', async () => {
  fake.state.logs['shop/big-1/'] = 'x\n';
  // A Status whose message is 1 MiB: the old follow read it whole and put it all in the error.
  fake.state.refuse['GET /api/v1/namespaces/shop/pods/big-1/log'] = {
    code: 400,
    reason: 'BadRequest',
    message: 'm'.repeat(1024 * 1024),
  };
  const config = await loadKubeConfig(env());
  await assert.rejects(
    followPodLog(config, { namespace: 'shop', pod: 'big-1', previous: false }, testContext()),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID');
      assert.match(e.message, /^the Kubernetes API refused pod shop\/big-1 \(400: \{"kind":"Status"/);
      assert.ok(e.message.length < FOLLOW_ERROR_BODY_MAX, `${e.message.length} characters`);
      assert.match(e.fix ?? '', /kubectl describe pod -n shop big-1/);
      return true;
    },
  );
});

test('the health detail of an API that answers an unexpected status is one line: status and message (fake Kubernetes API)', async () => {
  fake.state.refuse['GET /version'] = {
    code: 500,
    reason: 'InternalError',
    message: 'etcdserver: request timed out',
  };
  const health = await kubernetesHealth(env())();
  assert.equal(health.status, 'unavailable');
  assert.doesNotMatch(health.detail, /\n|Headers|Body:/);
  assert.match(health.detail, /HTTP 500 \(InternalError\): etcdserver: request timed out$/);
});
