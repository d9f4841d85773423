import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FakeKubeApi, startFakeKubeApi } from '../../../../test/fakes/kube-api-server.ts';
import { testContext } from '../../testing.ts';
import { EVENTS_MAX_OBJECTS, EVENTS_MAX_PAGES, k8sEventsAction } from './events.ts';

let fake: FakeKubeApi;
const env = () => ({ ...(process.env as Record<string, string>), KUBECONFIG: fake.kubeconfig });
before(async () => {
  fake = await startFakeKubeApi();
});
after(async () => {
  assert.deepEqual(fake.unexpected(), []);
  await fake.close();
});

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
