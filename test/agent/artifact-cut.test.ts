import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_ARTIFACT_MAX_BYTES, SOURCE_CONTEXT_LINES } from '../../src/actions/artifact.ts';
import { type FakeKubeApi, startFakeKubeApi } from '../fakes/kube-api-server.ts';
import { docker, removeContainers, startBusybox } from '../helpers/docker.ts';
import { type DvmRun, dvmAsync, tempHome } from '../helpers/dvm.ts';
import { waitFor } from '../helpers/wait.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';

// The output cap of `dvm action run` (the agent's default): every read action's artifact keeps at most this.
const CAP = DEFAULT_ARTIFACT_MAX_BYTES;
// A value no redaction pattern finds by its shape: only the `password=` in front of it marks it secret.
const SECRET = 'SECRETVALUE';

const containers: string[] = [];
let fake: FakeKubeApi | undefined;
after(() => {
  removeContainers(...containers);
  fake?.close();
});

// `count` lines of `size` bytes each with its newline (and `prefix` bytes of a tag), then one of `rest` bytes.
function filler(lines: number, size: number, rest: number, prefix = 0): string[] {
  return [
    ...Array.from({ length: lines }, (_, i) => `${i}`.padEnd(size - 1 - prefix, 'x')),
    'y'.repeat(rest - 1 - prefix),
  ];
}

// Runs `dvm action run ARGS` in-process (as the local admin, the agent's default cap) and asserts it succeeded.
async function run(home: string, args: string[], env: Record<string, string>): Promise<DvmRun> {
  const done = await dvmAsync(home, ['action', 'run', ...args], { env });
  assert.equal(done.status, 0, done.stderr);
  return done;
}

// Asserts the secret is in none of what dvm returned, stored and audited for `executionId`.
async function assertNoLeak(home: string, executionId: string, printed: string): Promise<void> {
  const stored = await dvmAsync(home, ['execution', 'get', executionId, '-o', 'json']);
  assert.equal(stored.status, 0, stored.stderr);
  assert.equal(JSON.parse(stored.stdout).status, 'succeeded');
  const audit = await dvmAsync(home, ['audit', 'export']);
  assert.equal(audit.status, 0, audit.stderr);
  assert.match(audit.stdout, new RegExp(executionId));
  for (const [what, text] of [
    ['the answer', printed],
    ['the stored execution', stored.stdout],
    ['the audit', audit.stdout],
    ...readdirSync(home)
      .filter((f) => f.startsWith('agent.db'))
      .map((f) => [f, readFileSync(join(home, f), 'latin1')]),
  ])
    assert.ok(!text.includes(SECRET), `${what} holds the secret`);
}

// Ends the follow of `key` and the run of it; asserts the secret leaked nowhere; answers the run and its execution.
async function endFollow(home: string, kube: FakeKubeApi, key: string, running: Promise<DvmRun>) {
  kube.endLog(key);
  const out = await running;
  const executionId = /^execution (\S+):/m.exec(out.stderr)?.[1] ?? '';
  assert.ok(executionId, out.stderr);
  await assertNoLeak(home, executionId, out.stdout + out.stderr);
  return { out, executionId };
}

// `dvm action run docker.logs` of `name` (tail `tail`, followed or not) as JSON, in-process, its secret nowhere
// (answer, stored execution, audit, database); answers its result and its streamed log (stdout and stderr events).
async function dockerLogs(home: string, name: string, tail: number, follow = false) {
  const out = await run(
    home,
    [
      'docker.logs',
      '--param',
      `container=${name}`,
      '--param',
      `tail=${tail}`,
      ...(follow ? ['--param', 'follow=true'] : []),
      '-o',
      'json',
    ],
    { DOCKER_HOST: TEST_DOCKER_HOST },
  );
  const body = JSON.parse(out.stdout);
  await assertNoLeak(home, body.execution_id, out.stdout + out.stderr);
  const events = await dvmAsync(home, ['execution', 'logs', body.execution_id]);
  assert.equal(events.status, 0, events.stderr);
  return { ...body.result, events: events.stdout, errorEvents: events.stderr };
}

// Follows pod `pod` (namespace shop, `tail` lines) of the fake through dvm action run, writes `line` once the follow is
// open, ends the log; asserts the secret leaked nowhere; answers the execution and the log it streamed.
async function followThenEnd(home: string, kube: FakeKubeApi, pod: string, tail: number, line: string) {
  const key = `shop/${pod}/`;
  const running = run(
    home,
    [
      'k8s.pod_logs',
      '--param',
      'namespace=shop',
      '--param',
      `pod=${pod}`,
      '--param',
      `tail=${tail}`,
      '--param',
      'follow=true',
    ],
    { KUBECONFIG: kube.kubeconfig },
  );
  await waitFor('the follow to open', () => kube.following(key) === 1, 30_000);
  kube.appendLog(key, line);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const { executionId } = await endFollow(home, kube, key, running);
  const logs = await dvmAsync(home, ['execution', 'logs', executionId]);
  assert.equal(logs.status, 0, logs.stderr);
  return { executionId, logs: logs.stdout };
}

test('docker.logs through dvm action run: the cap never cuts inside a line, so password=… cut at "pass|word" never shows its value (real Docker)', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  // The tagged artifact: `O password=SECRETVALUE\n` (23 bytes), then 1 MiB less 17 bytes of filler: the last 1 MiB
  // starts 6 bytes into the first line, at `O pass|word=SECRETVALUE`, where a byte cut kept `word=SECRETVALUE`.
  const lines = filler(1023, 1024, 1007, 2);
  const total = 23 + lines.reduce((sum, l) => sum + 2 + l.length + 1, 0);
  assert.equal(total - CAP, 6);
  const name = `dvm-cut-${process.pid}`;
  containers.push(name);
  // The filler is printed by a loop in the container (an argument of 1 MiB would pass the limit of one).
  startBusybox(
    name,
    `echo password=${SECRET}; i=0; while [ $i -lt 1023 ]; do printf '%-1021s\\n' $i | tr ' ' x; i=$((i+1)); done; printf '%1004s\\n' '' | tr ' ' y; sleep 3600`,
  );
  await waitFor(
    'the container to print its last line',
    () => docker('logs', '--tail', '1', name).startsWith('yyy'),
    30_000,
  );
  const { artifact, summary } = await dockerLogs(tempHome(), name, 10_000);
  assert.equal(summary.lines, 1025);
  assert.deepEqual([artifact.truncated, artifact.totalBytes, artifact.bytes], [true, total, total - 23]);
  assert.equal(artifact.oversizeBytes, undefined, 'the line at the cut is short: the budget ran out there');
  assert.ok(artifact.content.startsWith(`O ${lines[0]}\n`), 'the tail starts at a whole line');
  assert.ok(artifact.content.endsWith(`O ${lines.at(-1)}\n`));
});

test('k8s.pod_logs through dvm action run: a tail cut inside `password` leaves the line out whole (fake Kubernetes API)', async () => {
  fake ??= await startFakeKubeApi();
  // `password=SECRETVALUE\n` (21 bytes), then 1 MiB less 17 bytes: the last 1 MiB starts at `pass|word=`.
  const lines = filler(1023, 1024, 1007);
  fake.state.logs['shop/cut-1/'] = [`password=${SECRET}`, ...lines].join('\n');
  const home = tempHome();
  const out = await run(
    home,
    [
      'k8s.pod_logs',
      '--param',
      'namespace=shop',
      '--param',
      'pod=cut-1',
      '--param',
      'tail=10000',
      '-o',
      'json',
    ],
    { KUBECONFIG: fake.kubeconfig },
  );
  const body = JSON.parse(out.stdout);
  await assertNoLeak(home, body.execution_id, out.stdout);
  const { artifact } = body.result;
  assert.equal(artifact.totalBytes - CAP, 4, 'the byte cut falls at pass|word');
  assert.equal(artifact.truncated, true);
  assert.equal(artifact.content, `${lines.join('\n')}\n`);
  assert.equal(artifact.bytes, artifact.totalBytes - 21);
  assert.deepEqual(fake.unexpected(), []);
});

test('k8s.pod_logs follow through dvm action run: a line over the cap, cut in pieces at `pass|word`, never enters the artifact; the run says why it kept little (fake Kubernetes API)', async () => {
  fake ??= await startFakeKubeApi();
  const key = 'shop/cut-2/';
  fake.state.logs[key] = '';
  const kube = fake;
  // Held whole up to one past the cap (1 MiB + 1 characters), a longer line is handed on in pieces of that: the
  // first ends at `pass`, the last is `word=SECRETVALUE`, which a byte cut of the pieces kept as a line of its own.
  const long = `${'x'.repeat(CAP + 1 - 4)}password=${SECRET}`;
  const home = tempHome();
  const running = run(
    home,
    ['k8s.pod_logs', '--param', 'namespace=shop', '--param', 'pod=cut-2', '--param', 'follow=true'],
    { KUBECONFIG: kube.kubeconfig },
  );
  await waitFor('the follow to open', () => kube.following(key) === 1, 30_000);
  // The line without its end first, so that it arrives in chunks without a newline (and is cut in pieces).
  kube.appendRaw(key, Buffer.from(long));
  await new Promise((resolve) => setTimeout(resolve, 300));
  kube.appendRaw(key, Buffer.from('\nafter\n'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const { out, executionId } = await endFollow(home, kube, key, running);
  assert.match(
    out.stderr,
    new RegExp(
      `\\(output truncated: kept 6 of ${long.length + 1 + 6} bytes; a line of ${long.length + 1} bytes at the cut is longer than the output cap and was left out whole\\)`,
    ),
  );
  const stored = JSON.parse((await dvmAsync(home, ['execution', 'get', executionId, '-o', 'json'])).stdout);
  assert.deepEqual(stored.result.artifact, {
    contentType: 'text/plain; charset=utf-8',
    content: 'after\n',
    bytes: 6,
    totalBytes: long.length + 1 + 6,
    truncated: true,
    oversizeBytes: long.length + 1,
  });
  assert.deepEqual(kube.unexpected(), []);
});

test('k8s.pod_logs through dvm action run: a tail that starts inside a private key (its BEGIN line cut off) shows none of the key (fake Kubernetes API)', async () => {
  fake ??= await startFakeKubeApi();
  const body = [
    'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2KszSECRETVALUE',
    'bWFkZSB1cCBrZXkgbWF0ZXJpYWwgZm9yIGEgdGVzdA==',
  ];
  fake.state.logs['shop/cut-3/'] = [
    'starting',
    'loading key -----BEGIN RSA PRIVATE KEY-----',
    ...body,
    '-----END RSA PRIVATE KEY-----',
    'key loaded',
  ].join('\n');
  const home = tempHome();
  // The API server cuts the log to its last 4 lines: the first two are the key's body, without its BEGIN line.
  const out = await run(
    home,
    ['k8s.pod_logs', '--param', 'namespace=shop', '--param', 'pod=cut-3', '--param', 'tail=4', '-o', 'json'],
    { KUBECONFIG: fake.kubeconfig },
  );
  const answer = JSON.parse(out.stdout);
  await assertNoLeak(home, answer.execution_id, out.stdout);
  assert.ok(!out.stdout.includes(body[1]), 'the second body line is redacted too');
  assert.equal(answer.result.artifact.content, '[REDACTED]\nkey loaded\n');
  assert.deepEqual(fake.unexpected(), []);
});

test('k8s.pod_logs follow through dvm action run: a stream whose tail opens inside a private key streams none of its body as log events (fake Kubernetes API)', async () => {
  fake ??= await startFakeKubeApi();
  const key = 'shop/cut-4/';
  const body = [
    'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2KszSECRETVALUEbodyline0123',
    'bWFkZSB1cCBrZXkgbWF0ZXJpYWwgZm9yIGEgdGVzdA==',
  ];
  fake.state.logs[key] = [
    'starting',
    '-----BEGIN RSA PRIVATE KEY-----',
    ...body,
    '-----END RSA PRIVATE KEY-----',
  ].join('\n');
  const kube = fake;
  const { logs } = await followThenEnd(tempHome(), kube, 'cut-4', 3, 'key loaded');
  assert.ok(!logs.includes(body[1]), 'no line of the body is streamed');
  assert.match(logs, /key loaded/);
  assert.deepEqual(kube.unexpected(), []);
});

test('docker.logs through dvm action run: a tail that Docker starts on a secret value (its key on the line above, or inside a line over 16 KiB that Docker counts by piece, `…sword=`) shows none of it (real Docker)', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const below = `dvm-below-${process.pid}`;
  const pieces = `dvm-pieces-${process.pid}`;
  containers.push(below, pieces);
  startBusybox(below, `printf 'password:\\n  ${SECRET}\\nafter\\n'; sleep 3600`);
  // Docker keeps a line over 16 KiB as entries of 16,384 bytes: 32,765 x's put `pas` in the second and
  // `sword=SECRETVALUE` at the start of the third, which a tail of 2 entries starts with.
  startBusybox(
    pieces,
    `printf '%32765s' '' | tr ' ' x; printf 'password=${SECRET}\\n'; echo after; sleep 3600`,
  );
  for (const name of [below, pieces])
    await waitFor(
      'the container to print its last line',
      () => docker('logs', '--tail', '1', name) === 'after',
      30_000,
    );
  assert.match(
    docker('logs', '--tail', '2', pieces),
    new RegExp(`^sword=${SECRET}\\nafter$`),
    'Docker cuts the line',
  );
  const home = tempHome();
  for (const [name, leftOut] of [
    [below, `O   ${SECRET}\n`],
    [pieces, ''],
  ] as const) {
    const { artifact, summary } = await dockerLogs(home, name, 2);
    assert.equal(artifact.content, 'O after\n', name);
    // The value below its key is output left out (counted, truncated); the line more asked for is not output.
    assert.deepEqual(
      [artifact.totalBytes, artifact.truncated, summary.lines],
      [Buffer.byteLength(leftOut) + 8, leftOut !== '', leftOut ? 2 : 1],
      name,
    );
  }
});

test('k8s.pod_logs through dvm action run: a tail that starts on a secret value, its key on the line above, shows none of it (fake Kubernetes API)', async () => {
  fake ??= await startFakeKubeApi();
  fake.state.logs['shop/below-1/'] = ['start', 'password:', `  ${SECRET}`, 'after'].join('\n');
  const home = tempHome();
  for (const [tail, content] of [
    ['2', 'after\n'],
    // The key in the output: the value is redacted where it stands.
    ['3', 'password:\n  [REDACTED]\nafter\n'],
    ['4', 'start\npassword:\n  [REDACTED]\nafter\n'],
    ['1', 'after\n'],
  ] as const) {
    const out = await run(
      home,
      [
        'k8s.pod_logs',
        '--param',
        'namespace=shop',
        '--param',
        'pod=below-1',
        '--param',
        `tail=${tail}`,
        '-o',
        'json',
      ],
      { KUBECONFIG: fake.kubeconfig },
    );
    const body = JSON.parse(out.stdout);
    await assertNoLeak(home, body.execution_id, out.stdout);
    assert.equal(body.result.artifact.content, content, `tail ${tail}`);
    assert.equal(
      fake.requests.at(-1)?.query.tailLines,
      String(Number(tail) + SOURCE_CONTEXT_LINES),
      'lines more',
    );
  }
  assert.deepEqual(fake.unexpected(), []);
});

test('k8s.pod_logs follow through dvm action run: a tail that starts on a secret value below its key streams none of it (fake Kubernetes API)', async () => {
  fake ??= await startFakeKubeApi();
  const key = 'shop/below-2/';
  fake.state.logs[key] = ['start', 'password:', `  ${SECRET}`, 'after'].join('\n');
  const kube = fake;
  const { logs } = await followThenEnd(tempHome(), kube, 'below-2', 2, 'next');
  assert.equal(
    logs,
    'after\nnext\n',
    'the lines above the tail are not streamed, nor the value below the key among them',
  );
  // A read of one line more first (does the log have it?), then the follow of that many.
  assert.deepEqual(
    kube.requests.slice(-2).map((r) => [r.query.follow, r.query.tailLines]),
    [
      [undefined, String(2 + SOURCE_CONTEXT_LINES)],
      ['true', String(2 + SOURCE_CONTEXT_LINES)],
    ],
  );
  assert.deepEqual(kube.unexpected(), []);
});

test('docker.logs follow through dvm action run: a tail that starts on a secret value below its key streams none of it (real Docker)', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const name = `dvm-below-follow-${process.pid}`;
  containers.push(name);
  // The follow starts once `after` is out; the container ends its log 3 s later, and with it the follow.
  startBusybox(name, `printf 'start\\npassword:\\n  ${SECRET}\\nafter\\n'; sleep 3; echo next`);
  await waitFor(
    'the container to print its lines',
    () => docker('logs', '--tail', '1', name) === 'after',
    30_000,
  );
  const followed = await dockerLogs(tempHome(), name, 2, true);
  assert.equal(
    followed.events,
    'after\nnext\n',
    'the lines above the tail are not streamed, nor the value below the key among them',
  );
  assert.equal(followed.artifact.content, 'O after\nO next\n');
  assert.equal(followed.summary.lines, 3);
});

test('k8s.pod_logs follow through dvm action run: a line over the cap inside a secret block leaves the rest of the block out of the artifact (fake Kubernetes API)', async () => {
  fake ??= await startFakeKubeApi();
  const key = 'shop/block-1/';
  fake.state.logs[key] = '';
  const kube = fake;
  // A line of the block (indented below its key) longer than the cap.
  const long = `    ${'x'.repeat(CAP + 10)}`;
  const home = tempHome();
  const running = run(
    home,
    ['k8s.pod_logs', '--param', 'namespace=shop', '--param', 'pod=block-1', '--param', 'follow=true'],
    { KUBECONFIG: kube.kubeconfig },
  );
  await waitFor('the follow to open', () => kube.following(key) === 1, 30_000);
  kube.appendRaw(key, Buffer.from(`config:\n  private_token: |\n    first-line\n${long}`));
  await new Promise((resolve) => setTimeout(resolve, 300));
  kube.appendRaw(key, Buffer.from(`\n    ${SECRET}\nnext: 1\n`));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const { executionId } = await endFollow(home, kube, key, running);
  const stored = JSON.parse((await dvmAsync(home, ['execution', 'get', executionId, '-o', 'json'])).stdout);
  assert.equal(stored.result.artifact.content, 'next: 1\n');
  assert.equal(stored.result.artifact.oversizeBytes, long.length + 1);
  assert.deepEqual(kube.unexpected(), []);
});

test("docker.logs through dvm action run: the lines above a tail are read whole and in order across both streams — a key Docker cut in 16 KiB pieces, a key on the other stream, a line in pieces across the tail — and a TTY container's pieces counted by line length (real Docker)", async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const home = tempHome();
  const logsOf = (name: string, tail: number, follow = false) => dockerLogs(home, name, tail, follow);
  const started = (name: string, script: string, tty = false) => {
    containers.push(name);
    startBusybox(name, script, { tty });
  };
  const printed = (name: string, last = 'after') =>
    waitFor(
      'the container to print its lines',
      () => docker('logs', '--tail', '1', name).replace(/\r/g, '') === last,
      30_000,
    );

  // Docker keeps `x…pas` and `sword:` as two entries: the key is whole only when both are read.
  const pieces = `dvm-keypieces-${process.pid}`;
  started(pieces, `printf '%16381s' '' | tr ' ' x; printf 'password:\\n  ${SECRET}\\nafter\\n'; sleep 3600`);
  await printed(pieces);
  assert.match(docker('logs', '--tail', '3', pieces), /^sword:\n/, 'Docker cuts the key');
  assert.equal((await logsOf(pieces, 2)).artifact.content, 'O after\n');

  // The key on stderr, a stdout line, then its value on stderr: followed, the stdout line waits with the value and
  // goes with it, from the artifact and the log events alike.
  const streams = `dvm-streams-${process.pid}`;
  started(
    streams,
    `echo password: >&2; sleep 0.3; echo out1; sleep 0.3; echo '  ${SECRET}' >&2; sleep 0.3; echo after >&2; sleep 0.3; echo ready; sleep 3; echo next`,
  );
  await printed(streams, 'ready');
  const followed = await logsOf(streams, 4, true);
  assert.equal(followed.artifact.content, 'E after\nO ready\nO next\n');
  assert.equal(followed.events, 'ready\nnext\n');
  assert.match(followed.errorEvents, /^after\n/);
  // The key on stderr and a value on stdout: the stdout lines wait with it (at most OTHER_STREAM_LINES).
  const other = `dvm-other-${process.pid}`;
  started(
    other,
    `echo password: >&2; sleep 0.3; echo '  ${SECRET}'; sleep 0.3; echo after; sleep 3; echo next`,
  );
  await printed(other);
  assert.equal((await logsOf(other, 2, true)).artifact.content, '');

  // A line in 16 KiB pieces with the other stream's line between them: the line that started above the tail is
  // left out, never shown from its middle.
  const across = `dvm-across-${process.pid}`;
  started(
    across,
    `printf '%20000s' '' | tr ' ' x; sleep 0.5; echo err >&2; sleep 0.5; echo END; echo after; sleep 3600`,
  );
  await printed(across);
  const read = await logsOf(across, 3);
  assert.ok(!/O x+END/.test(read.artifact.content), read.artifact.content.slice(0, 80));
  assert.ok(read.artifact.content.endsWith('O after\n'));

  // A TTY container's stream has no frames: Docker's pieces of its lines are counted from their length, so a line
  // over 16 KiB is two entries, and the key above a tail is read, never shown.
  const tty = `dvm-tty-${process.pid}`;
  started(
    tty,
    `printf 'password:\\n  ${SECRET}\\n'; printf '%20000s\\n' '' | tr ' ' y; echo after; sleep 3600`,
    true,
  );
  await printed(tty);
  const plain = await logsOf(tty, 3);
  assert.equal(plain.summary.lines, 2);
  assert.match(plain.artifact.content, /^O y{20000}\r?\nO after\r?\n$/);
  const keyAbove = `dvm-tty-key-${process.pid}`;
  started(keyAbove, `printf 'password:\\n  ${SECRET}\\nafter\\n'; sleep 3600`, true);
  await printed(keyAbove);
  assert.equal((await logsOf(keyAbove, 2)).artifact.content, 'O after\n');
});

test('k8s.pod_logs through dvm action run: a YAML block whose key is lines above the tail is left out to its end, read and followed (fake Kubernetes API)', async () => {
  fake ??= await startFakeKubeApi();
  const kube = fake;
  const key = 'shop/block-2/';
  kube.state.logs[key] = ['token: |', `  ${SECRET}-1`, `  ${SECRET}-2`, 'after'].join('\n');
  const home = tempHome();
  const args = ['k8s.pod_logs', '--param', 'namespace=shop', '--param', 'pod=block-2', '--param', 'tail=2'];
  const read = JSON.parse((await run(home, [...args, '-o', 'json'], { KUBECONFIG: kube.kubeconfig })).stdout);
  await assertNoLeak(home, read.execution_id, JSON.stringify(read));
  assert.equal(read.result.artifact.content, 'after\n');
  assert.equal(read.result.summary.lines, 2);
  assert.equal((await followThenEnd(home, kube, 'block-2', 2, 'next')).logs, 'after\nnext\n');
  assert.deepEqual(kube.unexpected(), []);
});
