import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker, startBusybox } from '../../../../test/helpers/docker.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../../../../test/support/require-service.ts';
import type { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionProgress } from '../../action.ts';
import { createBuiltinRegistry } from '../../registry.ts';
import { testContext } from '../../testing.ts';
import { LogDemuxer } from './frames.ts';
import { dockerLogsAction } from './logs.ts';
import { dockerRestartAction } from './restart.ts';

const env = { ...(process.env as Record<string, string>), DOCKER_HOST: TEST_DOCKER_HOST };
const created: string[] = [];

after(() => {
  for (const name of created) {
    try {
      docker('rm', '-f', name);
    } catch {}
  }
});

// A busybox container (no network) that runs `script` with sh.
function container(script: string): string {
  const name = `dvm-test-${process.pid}-${created.length}`;
  created.push(name);
  startBusybox(name, script);
  return name;
}

async function ready(t: import('node:test').TestContext): Promise<boolean> {
  return requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh');
}

test('the demuxer splits multiplexed frames into stdout and stderr lines', () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };
  const demux = new LogDemuxer(false);
  const all = Buffer.concat([frame(1, 'out1\nou'), frame(2, 'err1\n'), frame(1, 't2\n')]);
  // Fed in awkward pieces, as a socket delivers them.
  const lines = [
    ...demux.push(all.subarray(0, 5)),
    ...demux.push(all.subarray(5, 20)),
    ...demux.push(all.subarray(20)),
    ...demux.end(),
  ];
  // Each line says which frame (Docker's log entry) it started in: `out2` in the first, where `ou` was.
  assert.deepEqual(lines, [
    { stream: 'stdout', line: 'out1', entry: 0 },
    { stream: 'stderr', line: 'err1', entry: 1 },
    { stream: 'stdout', line: 'out2', entry: 0 },
  ]);
  assert.equal(demux.entries, 3);
});

test('the demuxer decodes a character split between two frames whole, and holds a long line whole', () => {
  const frame = (payload: Buffer) => {
    const header = Buffer.alloc(8);
    header[0] = 1;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };
  const text = Buffer.from(`größe ${'z'.repeat(70_000)} ✓\n`);
  // Docker splits a long line into frames anywhere, inside a character too: at byte 3, inside 'ö'.
  const demux = new LogDemuxer(false);
  const lines = [
    ...demux.push(frame(text.subarray(0, 3))),
    ...demux.push(frame(text.subarray(3))),
    ...demux.end(),
  ];
  assert.deepEqual(lines, [{ stream: 'stdout', line: `größe ${'z'.repeat(70_000)} ✓`, entry: 0 }]);
});

test('docker.logs returns the tail split by stream, honours since, and caps the artifact', async (t) => {
  if (!(await ready(t))) return;
  const name = container('for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; sleep 3600');
  await sleep(500);
  const all = await dockerLogsAction.handler({ container: name, tail: 100 }, testContext({ env }));
  assert.equal(all.summary.lines, 10);
  assert.equal(all.summary.stdoutLines, 5);
  assert.equal(all.summary.stderrLines, 5);
  const lines = all.artifact.content.trim().split('\n').sort();
  assert.deepEqual(lines, [
    'E err1',
    'E err2',
    'E err3',
    'E err4',
    'E err5',
    'O out1',
    'O out2',
    'O out3',
    'O out4',
    'O out5',
  ]);
  const tail = await dockerLogsAction.handler({ container: name, tail: 2 }, testContext({ env }));
  assert.equal(tail.summary.lines, 2);
  assert.match(tail.artifact.content, /out5|err5/);
  const future = await dockerLogsAction.handler(
    { container: name, since: new Date(Date.now() + 60_000).toISOString() },
    testContext({ env }),
  );
  assert.equal(future.summary.lines, 0, 'nothing was printed after a time in the future');
  const capped = await dockerLogsAction.handler(
    { container: name },
    testContext({ env, maxOutputBytes: 20 }),
  );
  assert.equal(capped.artifact.truncated, true);
  // Whole lines only (7 bytes each): two fit in 20 bytes, a third would be cut.
  assert.equal(capped.artifact.bytes, 14);
  assert.ok(capped.artifact.totalBytes > 20);
  assert.match(
    capped.artifact.content,
    /^[OE] (out|err)\d\n[OE] (out|err)5\n$/,
    'the tail is kept, in whole lines',
  );
});

test('docker.logs never keeps a piece of a line longer than the cap: a password its pieces cut in two is left out whole', async (t) => {
  if (!(await ready(t))) return;
  // Docker sends a line over 16 KiB in frames without its newline: the demuxer hands it on in pieces of the cap plus
  // one (6000 characters here), and the second piece ends at `pass`; the last one begins `word=SECRETVALUE`.
  const name = container(
    "printf '%11996s' '' | tr ' ' x; printf 'password=SECRETVALUE'; printf '%5000s\\n' '' | tr ' ' y; echo after; sleep 3600",
  );
  await sleep(500);
  const out = await dockerLogsAction.handler({ container: name }, testContext({ env, maxOutputBytes: 5999 }));
  assert.ok(!out.artifact.content.includes('SECRETVALUE'), out.artifact.content.slice(0, 200));
  assert.deepEqual(out.artifact, {
    contentType: 'text/x-dvm-stream-tagged-log; charset=utf-8',
    content: 'O after\n',
    bytes: 8,
    totalBytes: 2 + 17_016 + 1 + 8,
    truncated: true,
    oversizeBytes: 2 + 17_016 + 1,
  });
  assert.equal(out.summary.truncated, true);
});

test('docker.logs follow streams new lines as they are written and stops on abort', async (t) => {
  if (!(await ready(t))) return;
  const name = container('i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.2; done');
  const controller = new AbortController();
  const events: ActionProgress[] = [];
  const started = Date.now();
  const running = dockerLogsAction.handler(
    { container: name, tail: 0, follow: true },
    testContext({ env, signal: controller.signal, emit: (e) => events.push(e) }),
  );
  while (events.length < 3 && Date.now() - started < 10_000) await sleep(50);
  controller.abort();
  const result = await running;
  assert.ok(events.length >= 3, `${events.length} lines followed`);
  assert.ok(events.every((e) => e.type === 'log' && /^tick\d+$/.test(e.line)));
  assert.equal(result.summary.followed, true);
  assert.ok(Date.now() - started < 10_000, 'stopped promptly');
});

test('docker.restart_container restarts it with a new start time', async (t) => {
  if (!(await ready(t))) return;
  const name = container('sleep 3600');
  const output = await dockerRestartAction.handler(
    { container: name, timeoutSeconds: 0 },
    testContext({ env }),
  );
  assert.equal(output.state, 'running');
  assert.notEqual(output.startedAt, output.previousStartedAt);
  assert.equal(docker('inspect', '-f', '{{.State.Running}}', name), 'true');
});

test('an unknown container is DVM_TARGET_NOT_FOUND; an unreachable daemon DVM_CONNECTOR_UNAVAILABLE', async (t) => {
  if (!(await ready(t))) return;
  await assert.rejects(
    dockerLogsAction.handler({ container: 'no-such-container-dvm' }, testContext({ env })),
    {
      code: 'DVM_TARGET_NOT_FOUND',
    },
  );
  await assert.rejects(
    dockerRestartAction.handler(
      { container: 'x' },
      testContext({ env: { ...env, DOCKER_HOST: 'unix:///tmp/no-docker-here.sock' } }),
    ),
    { code: 'DVM_CONNECTOR_UNAVAILABLE', message: /no-docker-here/ },
  );
});

test('docker.logs since: Unix seconds as Docker reads them, every line since then unless a tail is given, a bad value refused on since', async (t) => {
  if (!(await ready(t))) return;
  const name = container('i=0; while [ $i -lt 150 ]; do i=$((i+1)); echo line$i; done; sleep 3600');
  await sleep(500);
  const registry = createBuiltinRegistry();
  // Through the registry's validation, as every caller runs it: no schema default may stand in for "tail not given".
  const run = (params: Record<string, unknown>, maxOutputBytes?: number) =>
    dockerLogsAction.handler(
      registry.validateInput(dockerLogsAction, { container: name, ...params }),
      testContext({ env, ...(maxOutputBytes ? { maxOutputBytes } : {}) }),
    );
  const since = await run({ since: '1h' });
  assert.equal(since.summary.lines, 150, 'every line of the last hour, not the default tail');
  assert.equal(since.summary.truncated, false);
  assert.match(since.artifact.content, /^O line1\n[\s\S]*O line150\n$/);
  assert.equal((await run({})).summary.lines, 100, 'without since the default tail stays 100');
  assert.equal((await run({ since: '1h', tail: 5 })).summary.lines, 5, 'a tail given still applies');
  assert.equal((await run({ since: '10' })).summary.lines, 150, '10 is 10 s after the epoch: everything');
  const soon = String(Math.floor(Date.now() / 1000) + 60);
  assert.equal((await run({ since: soon })).summary.lines, 0, `${soon} is Unix seconds a minute from now`);
  assert.equal((await run({ since: `${soon}.5` })).summary.lines, 0);
  const capped = await run({ since: '1h' }, 64);
  assert.equal(capped.summary.lines, 150);
  assert.equal(capped.summary.truncated, true);
  assert.ok(capped.artifact.bytes <= 64 && capped.artifact.totalBytes === since.artifact.totalBytes);
  assert.match(capped.artifact.content, /O line150\n$/, 'the cap keeps the end');
  // The wrong shape is refused by validation (since.test.ts); a time of the right shape that does not exist, here.
  for (const bad of ['2026-02-30T00:00:00Z', '36501d']) {
    await assert.rejects(run({ since: bad }), (e: DvmError) => {
      assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID', `${bad}: ${e.code} ${e.message}`);
      assert.equal(e.location.path, 'since');
      assert.match(e.fix ?? '', /10m.*RFC 3339.*Unix seconds/);
      return true;
    });
  }
});

test('docker.logs follow stopped while it counts the lines above its tail ends with what it has (nothing), not an error', async (t) => {
  if (!(await ready(t))) return;
  // 10,000 lines of 1 KiB: counting the lines above a tail of 10,000 reads 10 MiB, far longer than the stop's 30 ms.
  const name = container(
    "i=0; while [ $i -lt 10000 ]; do printf '%1023s\\n' $i; i=$((i+1)); done; sleep 3600",
  );
  for (let i = 0; i < 200 && docker('logs', '--tail', '1', name).trim() !== '9999'; i++) await sleep(100);
  const stop = new AbortController();
  setTimeout(() => stop.abort(new Error('the timeout came')), 30);
  const out = await dockerLogsAction.handler(
    { container: name, tail: 10_000, follow: true },
    testContext({ env, signal: stop.signal }),
  );
  assert.equal(out.summary.followed, true);
  assert.ok(out.summary.lines < 10_000, String(out.summary.lines));
});

test("docker.logs of a TTY container counts Docker's pieces from the raw lines, with or without timestamps (Docker puts one before each piece): a tail shows the lines Docker's tail does", async (t) => {
  if (!(await ready(t))) return;
  // 60 lines of 16,360 bytes: each one Docker entry (16,362 bytes with its \r\n), two with a timestamp before it.
  const name = `dvm-test-${process.pid}-tty`;
  created.push(name);
  startBusybox(
    name,
    'i=0; while [ $i -lt 60 ]; do i=$((i+1)); printf "%05d" $i; head -c 16355 /dev/zero | tr "\\0" x; echo; done; sleep 3600',
    { tty: true },
  );
  for (let i = 0; i < 200 && !docker('logs', '--tail', '1', name).startsWith('00060'); i++) await sleep(100);
  for (const timestamps of [false, true]) {
    const out = await dockerLogsAction.handler(
      { container: name, tail: 20, timestamps },
      testContext({ env }),
    );
    const lines = out.artifact.content.split('\n').filter(Boolean);
    assert.equal(out.summary.lines, 20, `timestamps ${timestamps}`);
    assert.equal(lines.length, 20);
    assert.match(lines[0], /00041x/, `timestamps ${timestamps}`);
  }
});
