import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEventStream } from '../../src/agent/client/sse-client.ts';
import { startFakeKubeApi } from '../fakes/kube-api-server.ts';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { tempHome } from '../helpers/dvm.ts';
import { waitFor } from '../helpers/wait.ts';

test('through the API: k8s.pod_logs follow answers 202 and streams new lines over SSE until the log ends (fake Kubernetes API)', async () => {
  const { kube, key, events: stream, done } = await followPod('web-7', 'booting\n');
  try {
    const events: { event: string; data: string }[] = [];
    const reading = (async () => {
      for await (const event of stream) {
        events.push(event);
        if (event.event === 'log' && JSON.parse(event.data).line === 'booting') {
          kube.appendLog(key, 'ready on :8080');
          kube.appendLog(key, 'GET /health 200');
        }
        if (event.event === 'log' && JSON.parse(event.data).line === 'GET /health 200') kube.endLog(key);
      }
    })();
    await reading;
    assert.deepEqual(
      events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).line),
      ['booting', 'ready on :8080', 'GET /health 200'],
    );
    assert.equal(events.at(-1)?.event, 'completed');
    const summary = JSON.parse(events.at(-1)?.data ?? '{}').result.summary;
    assert.deepEqual(summary, {
      namespace: 'shop',
      pod: 'web-7',
      lines: 3,
      truncated: false,
      followed: true,
    });
    assert.deepEqual(kube.unexpected(), []);
  } finally {
    await done();
  }
});

test('through the API: a log line longer than 64 KiB is streamed whole, so a secret at the 64 KiB mark is redacted whole (fake Kubernetes API)', async () => {
  // The password's value begins before the 64 KiB mark and ends after it: cut there, its end went out as it is.
  const long = `${'x'.repeat(64 * 1024 - 13)} password=hunter2-straddles-the-mark ${'y'.repeat(4000)}`;
  const { kube, key, events, done } = await followPod('web-8', '');
  try {
    const lines: string[] = [];
    // The line arrives in two chunks, the first ending past the mark (as an HTTP body may cut it anywhere).
    await waitFor('the follow to open', () => kube.following(key) === 1);
    kube.appendRaw(key, Buffer.from(long.slice(0, 70_000)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    kube.appendRaw(key, Buffer.from(`${long.slice(70_000)}\nafter\n`));
    for await (const event of events) {
      if (event.event !== 'log') continue;
      lines.push(JSON.parse(event.data).line);
      if (lines.at(-1) === 'after') kube.endLog(key);
    }
    assert.deepEqual(lines, [long.replace('hunter2-straddles-the-mark', '[REDACTED]'), 'after']);
    assert.deepEqual(kube.unexpected(), []);
  } finally {
    await done();
  }
});

/**
 * A viewer's follow of pod shop/POD through a real `dvm serve` on a fake Kubernetes API (its log starts as `log`):
 * the 202 checked, its event stream opened; `done` stops both servers.
 */
async function followPod(pod: string, log: string) {
  const kube = await startFakeKubeApi();
  const key = `shop/${pod}/`;
  kube.state.logs[key] = log;
  const home = tempHome();
  const viewer = createToken(home, 'watcher', 'viewer');
  const serve = await startServe(home, { KUBECONFIG: kube.kubeconfig });
  const done = async () => {
    await serve.stop();
    await kube.close();
  };
  try {
    const accepted = await api(serve.url, 'POST', '/v1/actions/execute', {
      token: viewer,
      body: {
        request_id: `kfollow-${pod}`,
        action: 'k8s.pod_logs',
        params: { namespace: 'shop', pod, follow: true },
        target: { env: 'prod' },
      },
    });
    assert.equal(accepted.status, 202, accepted.text);
    const response = await fetch(new URL(String(accepted.body.events), serve.url), {
      headers: { authorization: `Bearer ${viewer}` },
    });
    return { kube, key, events: parseEventStream(response.body as AsyncIterable<Uint8Array>), done };
  } catch (error) {
    await done();
    throw error;
  }
}
