import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, createToken, startServe, useTwoPersonRule } from '../helpers/agent-server.ts';
import { removeContainers, startBusybox } from '../helpers/docker.ts';
import { DVM_BIN, dvm, dvmAsync, dvmOk, REPO_ROOT, tempDir, tempHome } from '../helpers/dvm.ts';
import { dvmPty, HAS_SCRIPT, type PtyRun } from '../helpers/pty.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../support/require-service.ts';

// Servers of this file listen on 18800-18829 (one port per test).
const listen = (port: number) => ['--listen', `127.0.0.1:${port}`];
const NO_DOCKER = 'unix:///nonexistent/dvm-test.sock';
const ESC = '\u001b';
const RESTART_PROD = [
  'action',
  'run',
  'docker.restart_container',
  '--param',
  'container=web',
  '--env',
  'prod',
];
const asked = (output: string) => output.includes('to run it:') || output.includes('Type "yes"');

const children: ReturnType<typeof spawn>[] = [];
after(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

// The executions a home's agent recorded (in-process: all of them).
const executions = (home: string) =>
  JSON.parse(dvmOk(home, ['execution', 'list', '-o', 'json']).stdout).items as {
    id: string;
    action: string;
    status: string;
  }[];

// The decisions of a home's audit log, in order.
const decisions = (home: string) =>
  dvmOk(home, ['audit', 'export'])
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).decision as string);

/** Single-quotes a word for /bin/sh. */
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs dvm on a pseudo-terminal with its stderr redirected to a file (as `dvm … 2>/dev/null` or `2>log` on a
 * terminal), typing `keys` at once; answers how it exited (-1 when it still waited after 20 s) and that file.
 */
function ptyWithStderrToFile(
  home: string,
  args: string[],
  keys: string,
  env: Record<string, string> = {},
): Promise<{ status: number; output: string; stderr: string }> {
  const file = join(tempDir(), 'stderr');
  const vars = Object.entries({ DVM_HOME: home, ...env })
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(' ');
  const inner = `stty cols 80 rows 24; ${vars} exec ${quote(process.execPath)} ${quote(DVM_BIN)} ${args.map(quote).join(' ')} 2>${quote(file)}`;
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', inner, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // Typed blind, as someone who sees no question might.
    child.stdin.write(keys);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status: status ?? -1, output, stderr: readFileSync(file, 'utf8') });
    });
  });
}

// Ctrl-C (or Ctrl-D) typed at a dvm question on a terminal.
const answerWith = (
  home: string,
  args: string[],
  keys: string,
  env?: Record<string, string>,
): Promise<PtyRun> => dvmPty(home, args, { keys, typeWhen: asked, ...(env ? { env } : {}) });

test('Ctrl-C at a confirmation question exits 130 with DVM_CANCELLED (nothing ran); Ctrl-D is refused as a wrong answer — in-process, remote, and dvm action approve', async (t) => {
  if (!HAS_SCRIPT) return t.skip('needs util-linux script for a pseudo-terminal');
  const home = tempHome();
  const local = { DOCKER_HOST: NO_DOCKER };

  // In-process.
  const ctrlC = await answerWith(home, RESTART_PROD, '\x03', local);
  assert.equal(ctrlC.status, 130, ctrlC.output);
  assert.match(ctrlC.output, /error: DVM_CANCELLED: not confirmed \(Ctrl-C\); nothing ran/);
  assert.doesNotMatch(ctrlC.output, /DVM_INTERNAL|bug in dvm|at .*\.ts:\d+/);
  const ctrlD = await answerWith(home, RESTART_PROD, '\x04', local);
  assert.equal(ctrlD.status, 1, ctrlD.output);
  assert.match(ctrlD.output, /error: DVM_CANCELLED: not confirmed \(no answer: end of input\); nothing ran/);
  assert.doesNotMatch(ctrlD.output, /DVM_INTERNAL/);
  // As a wrong answer is.
  const wrong = await answerWith(home, RESTART_PROD, 'stage\r', local);
  assert.equal(wrong.status, 1, wrong.output);
  assert.match(
    wrong.output,
    /error: DVM_CANCELLED: not confirmed \(the answer was not "prod"\); nothing ran/,
  );
  assert.deepEqual(executions(home), [], 'nothing ran');

  // Remote, and the approver's question.
  useTwoPersonRule(home);
  const alice = createToken(home, 'alice', 'operator');
  const bob = createToken(home, 'bob', 'operator');
  const serve = await startServe(home, local, listen(18801));
  const as = (token: string) => ({ DVM_SERVER: serve.url, DVM_TOKEN: token, ...local });
  try {
    // The two-person rule is for prod: stage asks the requester.
    const stage = [...RESTART_PROD.slice(0, -1), 'stage'];
    const remoteC = await answerWith(home, stage, '\x03', as(alice));
    assert.equal(remoteC.status, 130, remoteC.output);
    assert.match(remoteC.output, /error: DVM_CANCELLED: not confirmed \(Ctrl-C\); nothing ran/);
    assert.doesNotMatch(remoteC.output, /DVM_INTERNAL/);
    const remoteD = await answerWith(home, stage, '\x04', as(alice));
    assert.equal(remoteD.status, 1, remoteD.output);
    assert.match(
      remoteD.output,
      /error: DVM_CANCELLED: not confirmed \(no answer: end of input\); nothing ran/,
    );

    const challenged = await dvmAsync(home, [...RESTART_PROD, '--yes'], { env: as(alice) });
    const token = /dvmc_[A-Za-z0-9_-]{43}/.exec(challenged.stderr)?.[0] as string;
    assert.ok(token, challenged.stderr);
    const approveC = await answerWith(home, ['action', 'approve', token], '\x03', as(bob));
    assert.equal(approveC.status, 130, approveC.output);
    assert.match(
      approveC.output,
      /error: DVM_CANCELLED: not approved \(Ctrl-C\); the confirmation stays pending/,
    );
    assert.doesNotMatch(approveC.output, /DVM_INTERNAL/);
    const approveD = await answerWith(home, ['action', 'approve', token], '\x04', as(bob));
    assert.equal(approveD.status, 1, approveD.output);
    assert.match(
      approveD.output,
      /error: DVM_CANCELLED: not approved \(no answer: end of input\); the confirmation stays pending/,
    );
    const pending = await api(serve.url, 'POST', '/v1/confirmations/lookup', {
      token: bob,
      body: { confirmation_token: token },
    });
    assert.equal(pending.status, 200, pending.text);
    assert.equal(pending.body.approved_by, undefined, 'still pending');
  } finally {
    await serve.stop();
  }
  assert.deepEqual(executions(home), [], 'nothing ran');
});

test('dvm asks only when stdin and stderr are both terminals: with stderr redirected it refuses (DVM_CONFIRMATION_REQUIRED) and a blind answer runs nothing', async (t) => {
  if (!HAS_SCRIPT) return t.skip('needs util-linux script for a pseudo-terminal');
  const home = tempHome();
  const local = { DOCKER_HOST: NO_DOCKER };
  const run = await ptyWithStderrToFile(home, [...RESTART_PROD, '-o', 'json'], 'prod\r', local);
  assert.equal(run.status, 1, `${run.output}\n${run.stderr}`);
  assert.match(
    run.stderr,
    /DVM_CONFIRMATION_REQUIRED: docker\.restart_container \(write\) in prod needs confirmation/,
  );
  assert.match(run.stderr, /fix: .*stdin and stderr on the terminal.*--yes/);
  assert.doesNotMatch(run.stderr, /to run it:/, 'no question asked');
  assert.deepEqual(executions(home), [], 'the blind answer ran nothing');

  // The approver's question too (alice asks through the agent; the local admin reviews in-process).
  useTwoPersonRule(home);
  const alice = createToken(home, 'alice', 'operator');
  const serve = await startServe(home, local, listen(18802));
  try {
    const asAlice = await dvmAsync(home, [...RESTART_PROD, '--yes'], {
      env: { ...local, DVM_SERVER: serve.url, DVM_TOKEN: alice },
    });
    const token = /dvmc_[A-Za-z0-9_-]{43}/.exec(asAlice.stderr)?.[0] as string;
    assert.ok(token, asAlice.stderr);
    const approve = await ptyWithStderrToFile(home, ['action', 'approve', token], 'yes\r', local);
    assert.equal(approve.status, 1, `${approve.output}\n${approve.stderr}`);
    assert.match(
      approve.stderr,
      /DVM_CONFIRMATION_REQUIRED: approving docker\.restart_container for alice needs a yes/,
    );
    const pending = await api(serve.url, 'POST', '/v1/confirmations/lookup', {
      token: alice,
      body: { confirmation_token: token },
    });
    assert.equal(pending.body.approved_by, undefined, 'the blind yes approved nothing');
  } finally {
    await serve.stop();
  }
});

test('params, labels and messages other principals wrote reach the terminal escaped, on one line: dvm action approve (and approvals), the confirmation question, dvm execution get and logs; JSON is unchanged', async (t) => {
  const home = tempHome();
  useTwoPersonRule(home);
  const alice = createToken(home, 'alice', 'operator');
  const bob = createToken(home, 'bob', 'operator');
  const local = { DOCKER_HOST: NO_DOCKER };
  // Nothing that acts on a terminal: controls (newline and tab aside), C1 (\x9b is a CSI), bidi overrides.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
  const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
  // JSON escapes C0 controls itself, not C1 nor bidi overrides: a message param keeps them.
  const message = 'deploy done\u009b2K\u009b1Gconfirmation: notify.slack on env=dev (read-only)\u202e';
  const serve = await startServe(home, local, listen(18803));
  const as = (token: string) => ({ env: { DVM_SERVER: serve.url, DVM_TOKEN: token, ...local } });
  try {
    const notify = [
      'action',
      'run',
      'notify.slack',
      '--param',
      `message=${message}`,
      '--env',
      'prod',
      '--yes',
    ];
    const challenged = await dvmAsync(home, notify, as(alice));
    const token = /dvmc_[A-Za-z0-9_-]{43}/.exec(challenged.stderr)?.[0] as string;
    assert.ok(token, challenged.stderr);

    const review = await dvmAsync(home, ['action', 'approve', token], as(bob));
    assert.equal(review.status, 1, 'no --yes off a terminal');
    assert.doesNotMatch(review.stderr, ACTIVE, review.stderr);
    assert.match(review.stderr, /^confirmation dvmc_\S+: notify\.slack@\S+ on env=prod$/m);
    assert.ok(
      review.stderr.includes(
        '  params:       {"message":"deploy done\\x9b2K\\x9b1Gconfirmation: notify.slack on env=dev (read-only)\\u202e"}\n',
      ),
      review.stderr,
    );

    const table = dvmOk(home, ['action', 'approvals'], as(bob)).stdout;
    assert.doesNotMatch(table, ACTIVE);
    assert.ok(table.includes('deploy done\\x9b2K'), table);
    // JSON keeps the value as it is.
    const items = JSON.parse(dvmOk(home, ['action', 'approvals', '-o', 'json'], as(bob)).stdout).items;
    assert.equal(items[0].params.message, message);

    const approved = await dvmAsync(home, ['action', 'approve', token, '--yes'], as(bob));
    assert.equal(approved.status, 0, approved.stderr);
    assert.doesNotMatch(approved.stdout + approved.stderr, ACTIVE);
  } finally {
    await serve.stop();
  }

  // An execution's error that quotes what its requester gave, read back by dvm execution get and logs.
  const failed = dvm(home, [
    'action',
    'run',
    'exec',
    '--param',
    'command=["no-such\\u001b[2Kcmd\\u202e"]',
    '-o',
    'json',
  ]);
  assert.equal(failed.status, 1, failed.stderr);
  const id = JSON.parse(dvmOk(home, ['execution', 'list', '--action', 'exec', '-o', 'json']).stdout).items[0]
    .id;
  const got = dvmOk(home, ['execution', 'get', id]).stdout;
  assert.doesNotMatch(got, ACTIVE, got);
  assert.match(got, /^error: {5}DVM_EXEC_NOT_FOUND: program "no-such\\x1b\[2Kcmd\\u202e" was not found$/m);
  const logs = dvmOk(home, ['execution', 'logs', id]);
  assert.doesNotMatch(logs.stderr, ACTIVE);
  assert.match(logs.stderr, /failed: DVM_EXEC_NOT_FOUND: program "no-such\\x1b\[2Kcmd\\u202e"/);
  const record = JSON.parse(dvmOk(home, ['execution', 'get', id, '-o', 'json']).stdout);
  assert.ok(record.error.message.includes('no-such\u001b[2Kcmd\u202e'), '-o json: the message as stored');

  // The requester's own confirmation question (in-process): params shown escaped, on one line.
  if (!HAS_SCRIPT) return t.skip('the question needs util-linux script for a pseudo-terminal');
  const asking = await answerWith(
    home,
    ['action', 'run', 'exec', '--param', `shell=echo ${ESC}[2K${ESC}[1Gok\u202e\nrm`, '--env', 'stage'],
    '\x03',
    local,
  );
  assert.equal(asking.status, 130, asking.output);
  const output = asking.output.replaceAll('\r\n', '\n');
  const question = output.slice(output.indexOf('exec@'), output.indexOf('Type the'));
  assert.ok(question.includes('params: shell=echo \\x1b[2K\\x1b[1Gok\\u202e\\nrm\n'), question);
  assert.doesNotMatch(question, ACTIVE);
});

test('--param takes a JSON list (or object) where the schema allows one besides a string; other values stay strings', () => {
  const home = tempHome();
  const dry = (param: string) =>
    JSON.parse(dvmOk(home, ['action', 'run', 'exec', '--param', param, '--dry-run', '-o', 'json']).stdout)
      .params;
  assert.deepEqual(dry('command=["printf","%s|","x y"]'), { command: ['printf', '%s|', 'x y'] });
  assert.deepEqual(dry('command=echo "a b"'), { command: 'echo "a b"' });
  assert.deepEqual(dry('command=42'), { command: '42' }, 'a string-or-list param: a number stays a string');
  assert.deepEqual(
    dry('shell=["echo","x"]'),
    { shell: '["echo","x"]' },
    'a string-only param stays a string',
  );
  const ran = dvmOk(home, ['action', 'run', 'exec', '--param', 'command=["printf","%s|","x y"]', '--follow']);
  assert.ok(ran.stdout.startsWith('x y|\n'), ran.stdout);
});

test('SIGTERM of an in-process dvm action run cancels the execution through the agent, as Ctrl-C does: failed/DVM_CANCELLED, audited, exit 143', async () => {
  const home = tempHome();
  const run = spawn(
    process.execPath,
    [DVM_BIN, 'action', 'run', 'exec', '--param', 'command=sh -c "echo started; sleep 30"', '--follow'],
    { env: { ...process.env, DVM_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(run);
  let said = '';
  run.stderr.on('data', (d) => (said += d));
  const exited = new Promise<[number | null, string | null]>((resolve) =>
    run.on('exit', (code, signal) => resolve([code, signal])),
  );
  const started = await Promise.race([
    new Promise<boolean>((resolve) =>
      run.stdout.on('data', (d) => String(d).includes('started') && resolve(true)),
    ),
    exited.then(() => false),
  ]);
  assert.ok(started, `it ended before it started: ${said}`);
  run.kill('SIGTERM');
  assert.deepEqual(await exited, [143, null], said);
  const id = /cancelling execution (\S+) \(SIGTERM/.exec(said)?.[1] as string;
  assert.ok(id, said);
  assert.match(
    said,
    new RegExp(`execution ${id} cancelled \\(SIGTERM\\): it ended failed with DVM_CANCELLED`),
  );
  // exec is a write: stopped mid-way, what it asked for may have happened, and dvm passes that on.
  assert.match(
    said,
    /exec was stopped, but what it had already asked for may have happened\n {2}fix: Check the target's state/,
  );
  const record = JSON.parse(dvmOk(home, ['execution', 'get', id, '-o', 'json']).stdout);
  assert.deepEqual([record.status, record.error.code], ['failed', 'DVM_CANCELLED']);
  assert.deepEqual(decisions(home), ['allowed', 'allowed', 'failed'], 'the run, its cancel, its end');
});

test('Ctrl-C on a remote dvm action run waiting for its answer says the agent goes on with it, by request_id, and how to get its answer, find it and cancel it', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const container = `dvm-prompts-${process.pid}`;
  // PID 1 ignores SIGTERM: a restart waits its timeoutSeconds before Docker kills it.
  startBusybox(container, 'exec sleep 600');
  t.after(() => removeContainers(container));
  const home = tempHome();
  const operator = createToken(home, 'op', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST }, listen(18804));
  const env = { ...process.env, DVM_HOME: home, NO_COLOR: '1', DVM_SERVER: serve.url, DVM_TOKEN: operator };
  const args = ['action', 'run', 'docker.restart_container', '--param', `container=${container}`];
  const slow = [...args, '--param', 'timeoutSeconds=3', '--env', 'dev'];
  try {
    const run = spawn(process.execPath, [DVM_BIN, ...slow], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(run);
    let said = '';
    run.stderr.on('data', (d) => (said += d));
    const exited = new Promise<number | null>((resolve) => run.on('exit', resolve));
    await sleep(1500);
    run.kill('SIGINT');
    assert.equal(await exited, 130, said);
    const requestId = /request (cli-[0-9a-f-]{36}) goes on in the agent/.exec(said)?.[1] as string;
    assert.ok(requestId, said);
    assert.match(said, /stopped waiting \(Ctrl-C\)/);
    assert.match(said, new RegExp(`the same command with --request-id ${requestId} waits for its answer`));
    assert.match(said, /`dvm execution list --action docker\.restart_container` finds its execution/);
    assert.match(said, /`dvm execution cancel ID` stops it/);

    // What it says holds: the same command with that request_id answers the first run's outcome, not a second run.
    const again = await dvmAsync(home, [...slow, '--request-id', requestId], { env });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`request_id ${requestId} was sent before`));
    const listed = JSON.parse(
      dvmOk(home, ['execution', 'list', '--action', 'docker.restart_container', '-o', 'json'], {
        env: { DVM_SERVER: serve.url, DVM_TOKEN: operator },
      }).stdout,
    ).items;
    assert.equal(listed.length, 1, 'it ran once');
  } finally {
    await serve.stop();
  }
});

test('remote --follow of an action the agent answers at once (not long-running) shows its progress lines, as in-process, before the answer', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  const container = `dvm-prompts-follow-${process.pid}`;
  startBusybox(container, 'exec sleep 600');
  t.after(() => removeContainers(container));
  const home = tempHome();
  const operator = createToken(home, 'op', 'operator');
  const serve = await startServe(home, { DOCKER_HOST: TEST_DOCKER_HOST }, listen(18805));
  const args = ['action', 'run', 'docker.restart_container', '--param', `container=${container}`];
  const restart = [...args, '--param', 'timeoutSeconds=0', '--env', 'dev', '--follow'];
  try {
    const remote = await dvmAsync(home, restart, { env: { DVM_SERVER: serve.url, DVM_TOKEN: operator } });
    assert.equal(remote.status, 0, remote.stderr);
    const progress = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('… '));
    const shown = progress(remote.stderr);
    assert.ok(
      shown.some((l) => l.startsWith(`… restarting ${container}`)),
      remote.stderr,
    );
    assert.ok(
      remote.stderr.indexOf(shown[0]) < remote.stderr.indexOf('docker.restart_container@1.0.0 succeeded'),
      'before the answer',
    );
    const inProcess = await dvmAsync(home, restart, { env: { DOCKER_HOST: TEST_DOCKER_HOST } });
    assert.equal(inProcess.status, 0, inProcess.stderr);
    assert.equal(progress(inProcess.stderr).length, shown.length, 'the same lines as in-process');
  } finally {
    await serve.stop();
  }
});
