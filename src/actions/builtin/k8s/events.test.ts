import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useFakeKubeApi } from '../../../../test/fakes/kube-api-server.ts';
import type { DvmError } from '../../../errors/dvm-error.ts';
import { testContext } from '../../testing.ts';
import { apiFailure, KUBE_REFUSED_FIX, kubeError } from './client.ts';
import { EVENTS_MAX_OBJECTS, EVENTS_MAX_PAGES, k8sEventsAction } from './events.ts';
import { k8sPodLogsAction } from './pod-logs.ts';
import { k8sScaleAction } from './scale.ts';

const { fake, env } = useFakeKubeApi();

const event = (reason: string, at: string | undefined, count?: number, type = 'Normal') => ({
  metadata: { name: `web.${reason}`, ...(at ? {} : { creationTimestamp: undefined }) },
  involvedObject: { kind: 'Pod', name: 'web' },
  type,
  reason,
  message: reason,
  ...(count === undefined ? {} : { count }),
  ...(at ? { lastTimestamp: at } : {}),
});

test('k8s.events latest: newest first by time, in RFC 3339 (fake Kubernetes API)', async () => {
  fake.state.events.days = [
    event('Old', '2026-01-01T10:00:00Z'),
    event('Newest', '2026-01-02T10:00:00Z'),
    event('Middle', '2026-01-01T12:00:00Z'),
    event('Timeless', undefined),
    // An offset other than Z: compared by time, written in UTC.
    event('Earliest', '2025-12-31T23:00:00+01:00'),
  ];
  const out = await k8sEventsAction.handler({ namespace: 'days' }, testContext({ env: env() }));
  const latest = out.summary.latest as { reason: string; lastTimestamp?: string }[];
  assert.deepEqual(
    latest.map((e) => [e.reason, e.lastTimestamp]),
    [
      ['Newest', '2026-01-02T10:00:00.000Z'],
      ['Middle', '2026-01-01T12:00:00.000Z'],
      ['Old', '2026-01-01T10:00:00.000Z'],
      ['Earliest', '2025-12-31T22:00:00.000Z'],
      ['Timeless', undefined],
    ],
  );
  assert.match(k8sEventsAction.description, /newest first/);
});

test('k8s.events follows the API’s continue pages, counts occurrences apart from objects, and says when it stopped short (fake Kubernetes API)', async () => {
  fake.state.events.many = Array.from({ length: 1200 }, (_, i) =>
    event(i % 2 ? 'BackOff' : 'Pulled', '2026-01-01T00:00:00Z', 3, i % 2 ? 'Warning' : 'Normal'),
  );
  fake.requests.length = 0;
  const out = await k8sEventsAction.handler({ namespace: 'many' }, testContext({ env: env() }));
  assert.deepEqual(
    fake.requests.map((r) => [r.query.limit, r.query.continue]),
    [
      ['500', undefined],
      ['500', '500'],
      ['500', '1000'],
    ],
  );
  assert.deepEqual(
    [out.summary.objects, out.summary.count, out.summary.warnings, out.summary.truncated],
    [1200, 3600, 1800, false],
  );
  assert.deepEqual(out.summary.byReason, { Pulled: 1800, BackOff: 1800 });
  assert.equal(JSON.parse(out.artifact.content).length, 1200);

  // Past the cap: what was read, and truncated with what the API says is left.
  fake.state.events.huge = Array.from({ length: EVENTS_MAX_OBJECTS + 50 }, (_, i) =>
    event(`R${i % 3}`, undefined),
  );
  const capped = await k8sEventsAction.handler(
    { namespace: 'huge', limit: 1000 },
    testContext({ env: env() }),
  );
  assert.deepEqual(
    [capped.summary.objects, capped.summary.truncated, capped.summary.remainingObjects],
    [EVENTS_MAX_OBJECTS, true, 50],
  );
  const pages = await k8sEventsAction.handler({ namespace: 'huge', limit: 10 }, testContext({ env: env() }));
  assert.deepEqual([pages.summary.objects, pages.summary.truncated], [EVENTS_MAX_PAGES * 10, true]);
});

test('k8s.events starts the listing over once when the API expires its continue token (410), and is retryable when it expires again (fake Kubernetes API)', async () => {
  fake.state.events.churn = Array.from({ length: 5 }, (_, i) => event(`R${i}`, '2026-01-01T00:00:00Z', 2));
  fake.state.expireContinue = 1;
  fake.requests.length = 0;
  const out = await k8sEventsAction.handler({ namespace: 'churn', limit: 2 }, testContext({ env: env() }));
  assert.deepEqual(
    fake.requests.map((r) => [r.query.limit, r.query.continue]),
    [
      ['2', undefined],
      ['2', '2'],
      // The 410: from the start again, without continue.
      ['2', undefined],
      ['2', '2'],
      ['2', '4'],
    ],
  );
  // The events of the new listing only, not the first page twice.
  assert.deepEqual([out.summary.objects, out.summary.count, out.summary.truncated], [5, 10, false]);
  assert.equal(JSON.parse(out.artifact.content).length, 5);

  fake.state.expireContinue = 2;
  await assert.rejects(
    k8sEventsAction.handler({ namespace: 'churn', limit: 2 }, testContext({ env: env() })),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_CONNECTOR_UNAVAILABLE');
      assert.match(e.message, /expired the listing of events of namespace churn twice .*410 Expired/);
      assert.match(e.fix ?? '', /Run the action again; a larger limit/);
      assert.equal(e.details.origin, 'system');
      return true;
    },
  );
  fake.state.expireContinue = 0;
});

test('a request the Kubernetes API refuses as asked (400) gets the action’s own fix, not another action’s (fake Kubernetes API)', async () => {
  fake.state.refuse['GET /api/v1/namespaces/shop/events'] = {
    code: 400,
    reason: 'BadRequest',
    message: 'field label not supported: involvedObject.foo',
  };
  await assert.rejects(
    k8sEventsAction.handler({ namespace: 'shop', kind: 'Pod' }, testContext({ env: env() })),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID');
      assert.match(e.fix ?? '', /filters \(kind, name, type\) or limit/);
      assert.doesNotMatch(e.fix ?? '', /container/);
      return true;
    },
  );
  delete fake.state.refuse['GET /api/v1/namespaces/shop/events'];
  fake.state.deployments['shop/web'] = 1;
  fake.state.refuse['PUT /apis/apps/v1/namespaces/shop/deployments/web/scale'] = {
    code: 422,
    reason: 'Invalid',
    message: 'spec.replicas: Invalid value: -1',
  };
  await assert.rejects(
    k8sScaleAction.handler(
      { namespace: 'shop', deployment: 'web', replicas: 3 },
      testContext({ env: env() }),
    ),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID');
      assert.match(e.fix ?? '', /replicas, or the deployment \(kubectl describe deployment -n shop web\)/);
      assert.doesNotMatch(e.fix ?? '', /container/);
      return true;
    },
  );
  fake.state.refuse = {};
  // The pod's log keeps the wording about its containers; kubeError without an action's wording is neutral.
  fake.state.logs['shop/web-1/'] = 'x\n';
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
    {
      code: 'DVM_ACTION_INPUT_INVALID',
      fix: /^Change what the API's message names: container \(kubectl describe pod -n shop web-1/,
    },
  );
  fake.state.refuse = {};
  assert.equal(kubeError('the thing', apiFailure(400, '')).fix, KUBE_REFUSED_FIX);
  assert.doesNotMatch(KUBE_REFUSED_FIX, /container/);
});
