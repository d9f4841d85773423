import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, startServe } from '../helpers/agent-server.ts';
import { docker, dockerFollowArgs, startChatty, startDockerFollow } from '../helpers/docker.ts';
import { DVM_BIN, dvm, dvmAsync, dvmOk, tempHome } from '../helpers/dvm.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';

const container = `dvm-exec-cli-${process.pid}`;
after(() => {
  try {
    docker('rm', '-f', container);
  } catch {}
});

// The numbers of `lineN` lines, in the order printed.
const lineNumbers = (text: string) =>
  text
    .split('\n')
    .filter((l) => /^line\d+$/.test(l))
    .map((l) => Number(l.slice(4)));

const consecutive = (numbers: number[]) => numbers.every((n, i) => i === 0 || n === numbers[i - 1] + 1);

test('dvm execution get and logs show an action execution in-process: its record, result and events', () => {
  const home = tempHome();
  const run = JSON.parse(dvmOk(home, ['action', 'run', 'system.info', '-o', 'json']).stdout);
  const id = String(run.execution_id);

  const shown = dvmOk(home, ['execution', 'get', id]).stdout;
  assert.match(shown, new RegExp(`^execution: ${id}$`, 'm'));
  assert.match(shown, /^action: +system\.info@1\.0\.0$/m);
  assert.match(shown, /^status: +succeeded$/m);
  assert.match(shown, /^target: +env=dev$/m);
  assert.match(shown, /^principal: +local$/m);
  assert.match(shown, /^finished: .* \(\d+ ms\)$/m);
  assert.match(shown, /"hostname":/, 'the summary');
  assert.doesNotMatch(shown, /^output:/m, 'not the same JSON once more as the raw output');

  const record = JSON.parse(dvmOk(home, ['execution', 'get', id, '-o', 'json']).stdout);
  assert.equal(record.id, id);
  assert.deepEqual(record.result.summary, run.result.summary);

  const events = dvmOk(home, ['execution', 'logs', id, '-o', 'json'])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    events.map((e) => [e.id, e.type]),
    [
      [1, 'started'],
      [2, 'completed'],
    ],
  );
  assert.deepEqual(events[1].result.summary, run.result.summary);
  assert.match(dvmOk(home, ['execution', 'logs', id]).stderr, new RegExp(`execution ${id} succeeded`));

  const missing = dvm(home, ['execution', 'get', 'no-such-id']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /DVM_EXECUTION_NOT_FOUND/);
  const usage = dvm(home, ['execution', 'show', id]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /DVM_USAGE: usage: dvm execution list \| get\|logs\|cancel/);
  assert.match(
    dvm(home, ['execution', 'get', id, '--follow']).stderr,
    /DVM_USAGE: --follow is not a flag of `dvm execution get`/,
  );
  assert.match(
    dvm(home, ['execution', 'logs', id, '--status', 'running']).stderr,
    /DVM_USAGE: --status is not a flag of `dvm execution logs`/,
  );
});

test('dvm execution logs of a docker.logs follow: so far (and still running), -f to its end through the agent and from the database; others cannot see it', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  startChatty(container);
  const home = tempHome();
  const operator = createToken(home, 'op', 'operator');
  const other = createToken(home, 'other', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  try {
    const accepted = await startDockerFollow(serve.url, operator, {
      requestId: 'follow-logs',
      container,
      timeout: '10s',
    });
    const id = String(accepted.execution_id);
    const remote = { env: { DVM_SERVER: serve.url, DVM_TOKEN: operator } };
    // Followers from the start: through the agent's stream, and from the database (no server).
    const followRemote = dvmAsync(home, ['execution', 'logs', id, '-f'], remote);
    const followLocal = dvmAsync(home, ['execution', 'logs', id, '-f']);
    await sleep(1000);

    // Without -f the events so far, not a follow: it ends while the execution still runs (checked below).
    const soFar = await dvmAsync(home, ['execution', 'logs', id], remote);
    assert.equal(soFar.status, 0, soFar.stderr);
    assert.ok(lineNumbers(soFar.stdout).length >= 3, soFar.stdout);
    assert.ok(consecutive(lineNumbers(soFar.stdout)), soFar.stdout);
    assert.match(soFar.stderr, new RegExp(`execution ${id} is still running`));
    const running = await dvmAsync(home, ['execution', 'get', id, '-o', 'json'], remote);
    assert.equal(JSON.parse(running.stdout).status, 'running');

    // Ctrl-C stops the follower, not the execution, and says how to cancel it.
    const follower = spawn(process.execPath, [DVM_BIN, 'execution', 'logs', id, '-f'], {
      env: { ...process.env, DVM_HOME: home, ...remote.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let followed = '';
    let said = '';
    follower.stderr.on('data', (d) => (said += d));
    const exited = new Promise<number | null>((resolve) => follower.on('exit', resolve));
    await new Promise<void>((resolve) =>
      follower.stdout.on('data', (d) => {
        followed += d;
        if (/line\d+\n/.test(followed)) resolve();
      }),
    );
    follower.kill('SIGINT');
    assert.equal(await exited, 130, said);
    assert.match(
      said,
      new RegExp(`execution ${id} goes on in the agent: \`dvm execution cancel ${id}\` stops it`),
    );
    // SIGTERM (a `timeout`, a cancelled CI job) stops following the same way, exit 143.
    const termed = spawn(process.execPath, [DVM_BIN, 'execution', 'logs', id, '-f'], {
      env: { ...process.env, DVM_HOME: home, ...remote.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let termSaid = '';
    termed.stderr.on('data', (d) => (termSaid += d));
    const termExited = new Promise<number | null>((resolve) => termed.on('exit', resolve));
    await new Promise<void>((resolve) => termed.stdout.once('data', () => resolve()));
    termed.kill('SIGTERM');
    assert.equal(await termExited, 143, termSaid);
    assert.match(
      termSaid,
      new RegExp(`stopped following \\(SIGTERM\\); execution ${id} goes on in the agent`),
    );
    const still = await api(serve.url, 'GET', `/v1/executions/${id}`, { token: operator });
    assert.equal(still.body.status, 'running', 'the execution goes on');

    const hidden = await dvmAsync(home, ['execution', 'logs', id], {
      env: { DVM_SERVER: serve.url, DVM_TOKEN: other },
    });
    assert.equal(hidden.status, 1);
    assert.match(hidden.stderr, /DVM_EXECUTION_NOT_FOUND/, "another operator's execution looks missing");

    const [viaAgent, viaDatabase] = await Promise.all([followRemote, followLocal]);
    const record = JSON.parse(dvmOk(home, ['execution', 'get', id, '-o', 'json']).stdout);
    assert.equal(record.status, 'succeeded');
    const all = record.result.summary.lines;
    // The raw output of docker.logs marks each line with its stream (O stdout, E stderr).
    const output = dvmOk(home, ['execution', 'get', id]).stdout;
    assert.equal(output.match(/^O line\d+$/gm)?.length, all, 'get prints the raw output');
    for (const [how, run] of [
      ['through the agent', viaAgent],
      ['from the database', viaDatabase],
    ] as const) {
      assert.equal(run.status, 0, `${how}: ${run.stderr}`);
      const numbers = lineNumbers(run.stdout);
      assert.equal(numbers.length, all, `${how}: every line the execution followed`);
      assert.ok(consecutive(numbers), `${how}: in order`);
      assert.match(run.stderr, new RegExp(`execution ${id} succeeded`), how);
    }

    const bad = await api(serve.url, 'GET', `/v1/executions/${id}/events?follow=maybe`, { token: operator });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'DVM_QUERY_INVALID');
    assert.equal((bad.body.details as { path: string }).path, 'follow');
  } finally {
    await serve.stop();
  }
});

test('Ctrl-C on an in-process dvm action run cancels the execution through the agent: failed/DVM_CANCELLED, audited, exit 130', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const chatty = `${container}-ctrlc`;
  startChatty(chatty);
  t.after(() => docker('rm', '-f', chatty));
  const home = tempHome();
  const run = spawn(process.execPath, [DVM_BIN, ...dockerFollowArgs(chatty, '--follow')], {
    env: { ...process.env, DVM_HOME: home, DOCKER_HOST: TEST_DOCKER_HOST },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  run.stderr.on('data', (d) => (said += d));
  const exited = new Promise<number | null>((resolve) => run.on('exit', resolve));
  await new Promise<void>((resolve) =>
    run.stdout.on('data', (d) => /line\d+\n/.test(String(d)) && resolve()),
  );
  run.kill('SIGINT');
  assert.equal(await exited, 130, said);
  const id = /cancelling execution (\S+)/.exec(said)?.[1] as string;
  assert.match(
    said,
    new RegExp(`execution ${id} cancelled \\(Ctrl-C\\): it ended failed with DVM_CANCELLED`),
  );
  const record = JSON.parse(dvmOk(home, ['execution', 'get', id, '-o', 'json']).stdout);
  assert.deepEqual([record.status, record.error.code], ['failed', 'DVM_CANCELLED']);
  const entries = dvmOk(home, ['audit', 'export'])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    entries.map((e) => e.decision),
    ['allowed', 'allowed', 'failed'],
  );
  assert.deepEqual(entries[1].reasons, [`cancelled execution ${id}`], 'the cancel, by local');
  assert.equal(entries[1].operation, 'cancel');
  assert.equal(entries[2].error.code, 'DVM_CANCELLED');
  // The table tells the cancel from the run it stopped.
  assert.match(dvmOk(home, ['audit']).stdout, /^2\s+\S+\s+local\s+docker\.logs \(cancel\)\s+allowed/m);
});

test('the agent follows an execution another process runs: its SSE stream lasts to the end, and one whose process was killed reads interrupted (audited failed)', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const chatty = `${container}-other`;
  startChatty(chatty);
  t.after(() => docker('rm', '-f', chatty));
  const home = tempHome();
  const admin = createToken(home, 'boss', 'admin');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST });
  // An in-process follow beside the server, on the same home: the server does not run it.
  const inProcess = (timeout: string) => {
    const child = spawn(process.execPath, [DVM_BIN, ...dockerFollowArgs(chatty, '--timeout', timeout)], {
      env: { ...process.env, DVM_HOME: home, DOCKER_HOST: TEST_DOCKER_HOST },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { child, exited };
  };
  const runningId = async () => {
    for (let i = 0; i < 100; i++) {
      const listed = await api(serve.url, 'GET', '/v1/executions?status=running', { token: admin });
      const id = (listed.body.items as { id: string }[])[0]?.id;
      if (id) return id;
      await sleep(100);
    }
    throw new Error('the in-process follow never showed as running');
  };
  try {
    const first = inProcess('3s');
    const id = await runningId();
    const response = await fetch(new URL(`/v1/executions/${id}/events`, serve.url), {
      headers: { authorization: `Bearer ${admin}` },
    });
    const text = await response.text();
    assert.equal(await first.exited, 0);
    const types = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.equal(types[0], 'started');
    assert.equal(types.at(-1), 'completed', `the stream lasted to the end:\n${text.slice(-500)}`);
    const lines = [...text.matchAll(/"line":"line(\d+)"/g)].map((m) => Number(m[1]));
    assert.ok(lines.length >= 10 && consecutive(lines), `${lines.length} lines, in order`);

    const second = inProcess('60s');
    const killed = await runningId();
    second.child.kill('SIGKILL');
    await second.exited;
    const record = await api(serve.url, 'GET', `/v1/executions/${killed}`, { token: admin });
    assert.equal(record.body.status, 'interrupted', record.text);
    const failed = await api(serve.url, 'GET', `/v1/audit?decision=failed`, { token: admin });
    const entry = (failed.body.items as { executionId: string; error: { code: string } }[]).find(
      (e) => e.executionId === killed,
    );
    assert.equal(entry?.error.code, 'DVM_EXECUTION_INTERRUPTED');
    const running = await api(serve.url, 'GET', '/v1/executions?status=running', { token: admin });
    assert.deepEqual(running.body.items, []);
  } finally {
    await serve.stop();
  }
});
