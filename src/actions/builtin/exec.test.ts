import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DvmError } from '../../errors/dvm-error.ts';
import { CHILD_CAP_CHECK_MS, createLogFile } from '../log-file.ts';
import { createBuiltinRegistry } from '../registry.ts';
import { processRunning, tempDir, testContext } from '../testing.ts';
import { execAction } from './exec.ts';

const dir = tempDir();
after(() => dir.remove());

/** Asserts that the promise rejects with a DvmError of this code; returns the error. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<DvmError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DvmError, `not a DvmError: ${error}`);
    assert.equal(error.code, code, error.message);
    assert.ok(error.fix, `${code} has no fix`);
    return error;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

test('runs an argv list and streams its output into the log', async () => {
  const context = testContext();
  const output = await execAction.handler({ command: ['printf', '%s|%s', 'a b', "c'd"] }, context);
  assert.equal(context.log.text(), "a b|c'd");
  assert.equal(output.exitCode, 0);
  assert.equal(output.truncated, false);
  assert.ok(Number.isInteger(output.durationMs) && output.durationMs >= 0);
});

test('a command string is split with shell quoting, without a shell', async () => {
  const context = testContext();
  await execAction.handler({ command: `printf '<%s>' "a b" c\\ d '$HOME'` }, context);
  assert.equal(context.log.text(), '<a b><c d><$HOME>');
});

test('a command string with shell features is refused before anything runs', async () => {
  const error = await rejectsWith(
    execAction.handler({ command: `touch ${join(dir.path, 'x')} && echo hi` }, testContext()),
    'DVM_EXEC_SHELL_SYNTAX',
  );
  assert.match(error.message, /and-list \(&&\)/);
  assert.throws(() => statSync(join(dir.path, 'x')));
});

test('shell: runs a /bin/sh script; stdout and stderr both reach the log', async () => {
  const streams: Record<string, string> = { stdout: '', stderr: '' };
  const log = {
    write: (stream: 'stdout' | 'stderr', chunk: string | Uint8Array) => {
      streams[stream] += Buffer.from(chunk).toString('utf8');
    },
  };
  await execAction.handler(
    { shell: 'printf "%s" "$((1 + 2))" | tr 3 x; echo oops >&2' },
    { ...testContext(), log },
  );
  assert.deepEqual(streams, { stdout: 'x', stderr: 'oops\n' });
});

test('env as a map or a list is set over the context env', async () => {
  const context = testContext({
    env: { ...(process.env as Record<string, string>), KEEP: 'k', OVER: 'old' },
  });
  await execAction.handler(
    { shell: 'printf "%s,%s,%s" "$KEEP" "$OVER" "$N"', env: { OVER: 'new', N: 3 } },
    context,
  );
  await execAction.handler(
    {
      shell: 'printf ";%s,%s" "$OVER" "$B"',
      env: [
        { name: 'OVER', value: 'listed' },
        { name: 'B', value: true },
      ],
    },
    context,
  );
  assert.equal(context.log.text(), 'k,new,3;listed,true');
});

test('workdir is relative to the context workdir; a missing one fails before spawning', async () => {
  const context = testContext({ workdir: dir.path });
  writeFileSync(join(dir.path, 'marker.txt'), '');
  await execAction.handler({ command: ['ls'], workdir: '.' }, context);
  assert.match(context.log.text(), /marker\.txt/);
  const error = await rejectsWith(
    execAction.handler({ command: ['true'], workdir: 'no/such/dir' }, context),
    'DVM_WORKDIR_NOT_FOUND',
  );
  assert.match(error.message, /no\/such\/dir does not exist/);
  assert.equal(error.details.origin, 'user');
});

test('a missing program is DVM_EXEC_NOT_FOUND naming it', async () => {
  const error = await rejectsWith(
    execAction.handler({ command: ['dvm-no-such-program', '--x'] }, testContext()),
    'DVM_EXEC_NOT_FOUND',
  );
  assert.match(error.message, /"dvm-no-such-program"/);
  assert.match(error.fix ?? '', /PATH/);
  assert.equal(error.details.origin, 'user');
  // In a list, a leading NAME=value is a program name; in a string it is refused before anything runs (argv.test.ts).
  const assignment = await rejectsWith(
    execAction.handler({ command: ['FOO=1', 'make'] }, testContext()),
    'DVM_EXEC_NOT_FOUND',
  );
  assert.match(assignment.fix ?? '', /env:/);
  const inString = await rejectsWith(
    execAction.handler({ command: 'FOO=1 make' }, testContext()),
    'DVM_EXEC_SHELL_SYNTAX',
  );
  assert.match(inString.fix ?? '', /env: \[\{name: FOO, value: "1"\}\]/);
});

test('a non-zero exit is DVM_TASK_FAILED with the exit code', async () => {
  const error = await rejectsWith(execAction.handler({ shell: 'exit 3' }, testContext()), 'DVM_TASK_FAILED');
  assert.deepEqual(error.details, { exitCode: 3, origin: 'user' });
  assert.match(error.message, /exited with code 3/);
});

test('death by a signal is DVM_TASK_FAILED with the signal', async () => {
  const error = await rejectsWith(
    execAction.handler({ shell: 'kill -KILL $$' }, testContext()),
    'DVM_TASK_FAILED',
  );
  assert.deepEqual(error.details, { signal: 'SIGKILL', origin: 'user' });
});

test('a timeout stops the whole process group and fails with DVM_TIMEOUT', async () => {
  const context = testContext();
  const started = performance.now();
  const error = await rejectsWith(
    execAction.handler({ shell: 'sleep 30 & echo $!; sleep 30 & echo $!; wait', timeout: '300ms' }, context),
    'DVM_TIMEOUT',
  );
  const elapsed = performance.now() - started;
  assert.equal(error.details.origin, 'user');
  const pids = context.log.text().trim().split('\n').map(Number);
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.equal(processRunning(pid), false, `sleep ${pid} survived`);
  assert.ok(elapsed >= 300 && elapsed < 1500, `took ${elapsed} ms`);
});

test('a group member that ignores SIGTERM is killed after the grace', { timeout: 10_000 }, async () => {
  const context = testContext();
  const error = await rejectsWith(
    execAction.handler({ shell: "trap '' TERM; sleep 30 & echo $!; wait", timeout: '100ms' }, context),
    'DVM_TIMEOUT',
  );
  assert.ok(error);
  const pid = Number(context.log.text().trim());
  assert.equal(processRunning(pid), false, `sleep ${pid} survived`);
});

test('an abort of the context signal cancels (DVM_CANCELLED), or uses its DvmError or TimeoutError reason', async () => {
  const controller = new AbortController();
  const running = execAction.handler(
    { command: ['sleep', '30'] },
    testContext({ signal: controller.signal }),
  );
  setTimeout(() => controller.abort(), 50);
  const cancelled = await rejectsWith(running, 'DVM_CANCELLED');
  assert.equal(cancelled.details.origin, 'user');

  const reason = new DvmError('DVM_TIMEOUT', 'the run took longer than 1s', { fix: 'Raise it.' });
  const owner = new AbortController();
  const own = execAction.handler({ command: ['sleep', '30'] }, testContext({ signal: owner.signal }));
  setTimeout(() => owner.abort(reason), 50);
  assert.equal(await rejectsWith(own, 'DVM_TIMEOUT'), reason);

  const timedOut = execAction.handler(
    { command: ['sleep', '30'] },
    testContext({ signal: AbortSignal.timeout(50) }),
  );
  await rejectsWith(timedOut, 'DVM_TIMEOUT');

  const already = AbortSignal.abort();
  await rejectsWith(
    execAction.handler({ command: ['true'] }, testContext({ signal: already })),
    'DVM_CANCELLED',
  );
});

test('a background child holding the output pipe does not hold the task', async () => {
  const context = testContext();
  const started = performance.now();
  await execAction.handler({ shell: 'sleep 5 & echo $!' }, context);
  assert.ok(performance.now() - started < 2000);
  process.kill(Number(context.log.text().trim()), 'SIGKILL');
});

test('output past the log cap is dropped, marked, and reported as truncated', async () => {
  const path = join(dir.path, 'logs', 'cap.log');
  const log = createLogFile(path, { maxBytes: 1000 });
  const context = { ...testContext(), log };
  const output = await execAction.handler(
    { shell: 'head -c 100000 /dev/zero | tr "\\0" x; echo tail >&2' },
    context,
  );
  await log.close();
  assert.equal(output.truncated, true);
  assert.equal(log.truncated, true);
  assert.equal(log.bytes, 1000);
  const text = readFileSync(path, 'utf8');
  assert.equal(text, `${'x'.repeat(1000)}\n[dvm: log truncated at 1000 bytes]\n`);
});

test('a child that keeps printing past the cap is cut while it runs, not only when it exits', async () => {
  const path = join(dir.path, 'logs', 'running-cap.log');
  const log = createLogFile(path, { maxBytes: 1000 });
  const context = { ...testContext(), log };
  const running = execAction.handler({ shell: 'head -c 3000000 /dev/zero; sleep 2; echo late' }, context);
  await new Promise((resolve) => setTimeout(resolve, CHILD_CAP_CHECK_MS + 600));
  assert.ok(statSync(path).size <= 1000, `the file holds ${statSync(path).size} bytes while the task runs`);
  const output = await running;
  await log.close();
  assert.equal(output.truncated, true);
  assert.equal(readFileSync(path, 'utf8'), `${'\0'.repeat(1000)}\n[dvm: log truncated at 1000 bytes]\n`);
});

test('the registry validates exec input: exactly one of command and shell, a valid timeout', () => {
  const registry = createBuiltinRegistry();
  assert.throws(
    () => registry.validateInput(execAction, { command: 'true', shell: 'true' }),
    (e: unknown) =>
      e instanceof DvmError &&
      e.code === 'DVM_ACTION_INPUT_INVALID' &&
      e.causes.some((c) => c.message === 'gives command and shell: use exactly one of command, shell'),
  );
  assert.throws(
    () => registry.validateInput(execAction, {}),
    (e: unknown) =>
      e instanceof DvmError && e.causes.some((c) => c.message === 'needs one of command, shell'),
  );
  assert.throws(
    () => registry.validateInput(execAction, { command: [], timeout: '5 minutes' }),
    (e: unknown) =>
      e instanceof DvmError &&
      e.causes.some((c) => c.path === 'command') &&
      e.causes.some((c) => c.path === 'timeout' && /duration/.test(c.message)),
  );
  assert.deepEqual(
    registry.validateInput(execAction, { command: ['true'], env: [{ name: 'A', value: 1 }] }),
    {
      command: ['true'],
      env: [{ name: 'A', value: 1 }],
    },
  );
});

test('the hand check of exec inputs never accepts what the schema rejects', async () => {
  const { execInputIsValid, EXEC_INPUT_SCHEMA } = await import('./exec.ts');
  const { Ajv } = await import('ajv');
  const validate = new Ajv({ strict: false }).compile(EXEC_INPUT_SCHEMA);
  const inputs: unknown[] = [
    { command: ['/bin/true'] },
    { command: 'make test' },
    { shell: 'echo hi | wc' },
    { command: ['a'], env: [{ name: 'A', value: 1 }], timeout: '5m', workdir: 'sub' },
    { command: ['a'], env: { A: 'x', B: true } },
    { command: [], shell: 'x' },
    { command: [] },
    { command: [1] },
    { command: '' },
    {},
    { command: ['a'], shell: 'b' },
    { command: ['a'], env: [{ name: '1A', value: 'x' }] },
    { command: ['a'], env: [{ name: 'A', value: { x: 1 } }] },
    { command: ['a'], env: [{ name: 'A', extra: 1 }] },
    { command: ['a'], timeout: '5 minutes' },
    { command: ['a'], other: 1 },
    { command: ['a'], env: 'A=1' },
    null,
    [],
  ];
  for (const input of inputs) {
    const schemaSays = validate(input);
    const handSays = execInputIsValid(input);
    // The hand check may send a valid input to the validator, never let an invalid one through.
    if (handSays) assert.equal(schemaSays, true, JSON.stringify(input));
  }
  assert.equal(execInputIsValid({ command: ['/bin/true'] }), true, 'the common case skips the validator');
});
