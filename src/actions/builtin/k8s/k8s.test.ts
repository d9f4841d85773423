import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { useFakeKubeApi } from '../../../../test/fakes/kube-api-server.ts';
import { SOURCE_CONTEXT_LINES } from '../../artifact.ts';
import { kubernetesHealth } from '../../connectors.ts';
import { createBuiltinRegistry } from '../../registry.ts';
import { testContext } from '../../testing.ts';
import { k8sEventsAction } from './events.ts';
import { k8sPodLogsAction } from './pod-logs.ts';
import { k8sScaleAction } from './scale.ts';

const { fake, env } = useFakeKubeApi();

test('k8s.pod_logs passes tail, container and since to the API and caps the artifact (fake Kubernetes API)', async () => {
  fake.state.logs['shop/web-1/app'] = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n');
  const out = await k8sPodLogsAction.handler(
    { namespace: 'shop', pod: 'web-1', container: 'app', tail: 5, since: '10m' },
    testContext({ env: env() }),
  );
  // Lines more than the tail: read only for a secret they open (the tail could start on its value).
  assert.deepEqual(fake.requests.at(-1)?.query, {
    container: 'app',
    tailLines: String(5 + SOURCE_CONTEXT_LINES),
    sinceSeconds: '600',
    previous: 'false',
  });
  assert.equal(out.summary.lines, 5);
  assert.match(out.artifact.content, /^line 46\n[\s\S]*line 50\n$/);
  const capped = await k8sPodLogsAction.handler(
    { namespace: 'shop', pod: 'web-1', container: 'app', tail: 50 },
    testContext({ env: env(), maxOutputBytes: 16 }),
  );
  assert.equal(capped.artifact.truncated, true);
  assert.ok(capped.artifact.totalBytes > 16 && capped.artifact.bytes <= 16);
});

test('k8s.pod_logs with since and no tail asks for every line since then, as kubectl logs --since does (fake Kubernetes API)', async () => {
  fake.state.logs['shop/web-4/app'] = Array.from({ length: 150 }, (_, i) => `line ${i + 1}`).join('\n');
  const registry = createBuiltinRegistry();
  // Through the registry's validation, as every caller runs it: no schema default may stand in for "tail not given".
  const run = (params: Record<string, unknown>) =>
    k8sPodLogsAction.handler(
      registry.validateInput(k8sPodLogsAction, {
        namespace: 'shop',
        pod: 'web-4',
        container: 'app',
        ...params,
      }),
      testContext({ env: env() }),
    );
  const since = await run({ since: '1h' });
  assert.deepEqual(fake.requests.at(-1)?.query, {
    container: 'app',
    sinceSeconds: '3600',
    previous: 'false',
  });
  assert.equal(since.summary.lines, 150);
  assert.equal((await run({})).summary.lines, 100, 'without since the default tail stays 100');
  assert.equal(
    fake.requests.at(-1)?.query.tailLines,
    String(100 + SOURCE_CONTEXT_LINES),
    'the tail and lines more',
  );
  assert.equal((await run({ since: '1h', tail: 5 })).summary.lines, 5, 'a tail given still applies');
  assert.equal(fake.requests.at(-1)?.query.tailLines, String(5 + SOURCE_CONTEXT_LINES));

  const following = k8sPodLogsAction.handler(
    registry.validateInput(k8sPodLogsAction, {
      namespace: 'shop',
      pod: 'web-4',
      container: 'app',
      since: '1h',
      follow: true,
    }),
    testContext({ env: env() }),
  );
  await until('the follow is open', () => fake.following('shop/web-4/app') === 1);
  assert.equal(
    fake.requests.at(-1)?.query.tailLines,
    undefined,
    'a follow since a time starts with all of it',
  );
  assert.equal(fake.requests.at(-1)?.query.sinceSeconds, '3600');
  fake.endLog('shop/web-4/app');
  assert.equal((await following).summary.lines, 150);
  await assert.rejects(run({ since: '36501d' }), (e: { code?: string; location?: { path?: string } }) => {
    assert.deepEqual([e.code, e.location?.path], ['DVM_ACTION_INPUT_INVALID', 'since']);
    return true;
  });
});

test('k8s.events filters by object through the field selector and summarises (fake Kubernetes API)', async () => {
  const event = (name: string, type: string, reason: string, at: string) => ({
    metadata: { name: `${name}.${reason}` },
    involvedObject: { kind: 'Pod', name },
    type,
    reason,
    message: `${reason} for ${name}`,
    count: 2,
    lastTimestamp: at,
  });
  fake.state.events.shop = [
    event('web-1', 'Warning', 'BackOff', '2026-01-01T00:00:02Z'),
    event('web-1', 'Normal', 'Pulled', '2026-01-01T00:00:01Z'),
    event('db-0', 'Warning', 'FailedMount', '2026-01-01T00:00:03Z'),
  ];
  const out = await k8sEventsAction.handler(
    { namespace: 'shop', kind: 'Pod', name: 'web-1' },
    testContext({ env: env() }),
  );
  assert.equal(
    fake.requests.at(-1)?.query.fieldSelector,
    'involvedObject.kind=Pod,involvedObject.name=web-1',
  );
  // Occurrences (each event object's count summed), as byReason; objects apart.
  assert.equal(out.summary.objects, 2);
  assert.equal(out.summary.count, 4);
  assert.equal(out.summary.warnings, 2);
  assert.deepEqual(out.summary.byReason, { BackOff: 2, Pulled: 2 });
  assert.equal((out.summary.latest as { reason: string }[])[0].reason, 'BackOff');
});

test('k8s.events caps its JSON artifact by whole events, so that it always parses (fake Kubernetes API)', async () => {
  fake.state.events.capped = Array.from({ length: 30 }, (_, i) => ({
    metadata: { name: `web-${i}.BackOff` },
    involvedObject: { kind: 'Pod', name: `web-${i}` },
    type: 'Warning',
    reason: 'BackOff',
    message: `Back-off restarting failed container ${'é'.repeat(i)} password=hunter2-${i}`,
    count: 1,
  }));
  const whole = await k8sEventsAction.handler({ namespace: 'capped' }, testContext({ env: env() }));
  assert.equal(whole.artifact.truncated, false);
  for (const max of [1, 300, 1000, 2345, 5000]) {
    const out = await k8sEventsAction.handler(
      { namespace: 'capped' },
      testContext({ env: env(), maxOutputBytes: max }),
    );
    const kept = JSON.parse(out.artifact.content) as { metadata: { name: string } }[];
    assert.equal(out.artifact.contentType, 'application/json');
    assert.equal(out.artifact.truncated, true, `max ${max}`);
    assert.ok(out.artifact.bytes <= Math.max(max, 2), `max ${max}: ${out.artifact.bytes}`);
    assert.equal(out.artifact.totalBytes, whole.artifact.totalBytes);
    // The first events, whole; the summary counts all of them.
    assert.deepEqual(
      kept.map((e) => e.metadata.name),
      Array.from({ length: kept.length }, (_, i) => `web-${i}.BackOff`),
    );
    assert.equal(out.summary.objects, 30);
  }
});

test('k8s.scale_deployment reads the scale, replaces it, and reports previous and new (fake Kubernetes API)', async () => {
  fake.state.deployments['shop/web'] = 2;
  const progress: string[] = [];
  const out = await k8sScaleAction.handler(
    { namespace: 'shop', deployment: 'web', replicas: 5 },
    testContext({ env: env(), emit: (e) => progress.push(e.type === 'progress' ? e.message : e.line) }),
  );
  assert.deepEqual(out, { namespace: 'shop', deployment: 'web', previousReplicas: 2, replicas: 5 });
  assert.deepEqual(progress, [
    'scaling deployment shop/web from 2 to 5 replicas',
    'deployment shop/web scaled to 5 replicas',
  ]);
  assert.equal(fake.state.deployments['shop/web'], 5);
  const put = fake.requests.find((r) => r.method === 'PUT');
  assert.match(put?.contentType ?? '', /application\/json/);
  const sent = (put?.body ?? {}) as { metadata?: { resourceVersion?: string } };
  assert.ok(sent.metadata?.resourceVersion, 'the replace carries the resourceVersion it read');
});

test('missing objects, refused credentials and a missing kubeconfig are coded errors (fake Kubernetes API)', async () => {
  await assert.rejects(
    k8sPodLogsAction.handler({ namespace: 'shop', pod: 'nope' }, testContext({ env: env() })),
    {
      code: 'DVM_TARGET_NOT_FOUND',
      message: /shop\/nope/,
    },
  );
  await assert.rejects(
    k8sScaleAction.handler(
      { namespace: 'shop', deployment: 'ghost', replicas: 1 },
      testContext({ env: env() }),
    ),
    {
      code: 'DVM_TARGET_NOT_FOUND',
    },
  );
  const wrong = `${fake.kubeconfig}.wrong`;
  writeFileSync(
    wrong,
    (await import('node:fs')).readFileSync(fake.kubeconfig, 'utf8').replace(fake.token, 'stolen'),
  );
  await assert.rejects(
    k8sEventsAction.handler({ namespace: 'shop' }, testContext({ env: { ...env(), KUBECONFIG: wrong } })),
    {
      code: 'DVM_FORBIDDEN',
      message:
        /the Kubernetes API did not accept the kubeconfig's credentials .*401 Unauthorized.*dvm's policy allowed/,
    },
  );
  await assert.rejects(
    k8sEventsAction.handler({}, testContext({ env: { ...env(), KUBECONFIG: '/nonexistent/kubeconfig' } })),
    {
      code: 'DVM_CONNECTOR_UNAVAILABLE',
    },
  );
});

test('health reads /version through the kubeconfig; an aborted call stops (fake Kubernetes API)', async () => {
  const ok = await kubernetesHealth(env())();
  assert.deepEqual([ok.status, /v1\.30\.0-fake/.test(ok.detail)], ['ok', true]);
  const none = await kubernetesHealth({ KUBECONFIG: '/nonexistent' })();
  assert.equal(none.status, 'unavailable');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    k8sEventsAction.handler({ namespace: 'shop' }, testContext({ env: env(), signal: controller.signal })),
  );
});

// The log lines a handler streams, and apart the lines it read only for what they open (never shown).
function logLines() {
  const streamed: string[] = [];
  const context: string[] = [];
  const emit = (e: { type: string; line?: string; context?: boolean }) => {
    if (e.type === 'log') (e.context ? context : streamed).push(e.line ?? '');
  };
  return { streamed, context, emit };
}

// Waits up to 3 s for `ok`, then asserts it with `what`.
async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(ok(), what);
}

test('k8s.pod_logs follow streams the tail, then each new line, until the log ends or the action stops (fake Kubernetes API)', async () => {
  const key = 'shop/web-2/app';
  fake.state.logs[key] = 'one\ntwo\nthree\n';
  const { streamed, context, emit } = logLines();
  const following = k8sPodLogsAction.handler(
    { namespace: 'shop', pod: 'web-2', container: 'app', tail: 2, follow: true },
    testContext({ env: env(), emit }),
  );
  await until('the follow is open', () => fake.following(key) === 1);
  fake.appendLog(key, 'four');
  fake.appendLog(key, 'five');
  await until('the new lines arrived', () => streamed.length === 4);
  fake.endLog(key);
  const out = await following;
  assert.deepEqual(streamed, ['two', 'three', 'four', 'five']);
  // The log had a line more than the tail (a read counted them first): read for what it opens, never shown.
  assert.deepEqual(context, ['one']);
  assert.deepEqual(out.summary, {
    namespace: 'shop',
    pod: 'web-2',
    container: 'app',
    lines: 4,
    truncated: false,
    followed: true,
  });
  assert.equal(out.artifact.content, 'two\nthree\nfour\nfive\n');
  assert.deepEqual(
    fake.requests.slice(-2).map((r) => [r.query.follow, r.query.tailLines]),
    [
      [undefined, String(2 + SOURCE_CONTEXT_LINES)],
      ['true', String(2 + SOURCE_CONTEXT_LINES)],
    ],
  );

  // Stopped (its timeout, a cancel): it ends with what it gathered and closes the connection.
  const stop = new AbortController();
  const stopped = k8sPodLogsAction.handler(
    { namespace: 'shop', pod: 'web-2', container: 'app', tail: 1, follow: true },
    testContext({ env: env(), emit, signal: stop.signal }),
  );
  await until('the second follow is open', () => fake.following(key) === 1);
  stop.abort(new Error('timeout'));
  assert.equal((await stopped).summary.lines, 1);
  await until('its connection closed', () => fake.following(key) === 0);

  await assert.rejects(
    k8sPodLogsAction.handler({ namespace: 'shop', pod: 'gone', follow: true }, testContext({ env: env() })),
    { code: 'DVM_TARGET_NOT_FOUND' },
  );
});

test('k8s.pod_logs follow: tail 0 sends no past lines, a character split across chunks arrives whole, a line without end is sent in pieces, and a broken connection is an error (fake Kubernetes API)', async () => {
  const key = 'shop/web-3/';
  fake.state.logs[key] = 'old one\nold two\n';
  const { streamed, emit } = logLines();
  // A line is held whole up to one past the output cap (log events end there): here a cap of 64 KiB less one.
  const piece = 64 * 1024;
  const following = k8sPodLogsAction.handler(
    { namespace: 'shop', pod: 'web-3', tail: 0, follow: true },
    testContext({ env: env(), emit, maxOutputBytes: piece - 1 }),
  );
  await until('the follow is open', () => fake.following(key) === 1);
  const query = fake.requests.at(-1)?.query ?? {};
  assert.ok(query.sinceTime && query.tailLines === undefined, JSON.stringify(query));
  const word = Buffer.from('wörld\n');
  fake.appendRaw(key, word.subarray(0, 2)); // ends inside "ö"
  await new Promise((resolve) => setTimeout(resolve, 50));
  fake.appendRaw(key, word.subarray(2));
  const send = async (text: string) => {
    fake.appendRaw(key, Buffer.from(text));
    await new Promise((resolve) => setTimeout(resolve, 30));
  };
  // A line longer than the cap goes out in pieces of it; one of exactly a piece ends at its newline, with no empty line
  // after it; a piece never ends between the two halves of a surrogate pair.
  await send('x'.repeat(piece + 6 * 1024));
  await send('\n');
  await send('y'.repeat(piece));
  await send('\n');
  await send(`${'z'.repeat(piece - 1)}\u{1F600}tail`);
  await send('\n');
  await until('every line arrived', () => streamed.length === 6);
  fake.breakLog(key);
  await assert.rejects(following, (e: { code?: string; message?: string }) => {
    assert.equal(e.code, 'DVM_CONNECTOR_UNAVAILABLE');
    assert.match(e.message ?? '', /broke off after 6 line\(s\)/);
    return true;
  });
  assert.deepEqual(streamed, [
    'wörld',
    'x'.repeat(piece),
    'x'.repeat(6 * 1024),
    'y'.repeat(piece),
    'z'.repeat(piece - 1),
    '\u{1F600}tail',
  ]);
});

test('k8s.pod_logs follow stopped while it counts the lines above its tail ends with nothing, as one stopped before its first line (fake Kubernetes API)', async () => {
  fake.state.logs['shop/stop-1/'] = ['one', 'two', 'three'].join('\n');
  const stopped = new AbortController();
  stopped.abort(new Error('the timeout came'));
  const out = await k8sPodLogsAction.handler(
    { namespace: 'shop', pod: 'stop-1', tail: 2, follow: true },
    testContext({ env: env(), signal: stopped.signal }),
  );
  assert.deepEqual(out.summary, {
    namespace: 'shop',
    pod: 'stop-1',
    lines: 0,
    truncated: false,
    followed: true,
  });
  assert.equal(fake.following('shop/stop-1/'), 0, 'no follow was opened');
});
