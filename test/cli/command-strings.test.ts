import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const SCOPE = `apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: lab}\n---\napiVersion: devopsmaestro.io/v1\nkind: Domain\nmetadata: {name: ci, ecosystem: lab}\n`;
const task = (name: string, command: string) =>
  `---\napiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: ${name}, domain: ci}\nspec:\n  command: ${command}\n`;

test('command strings that /bin/sh would expand or read differently are refused at apply time', () => {
  const home = tempHome();
  const yaml = [
    SCOPE,
    task('glob', '"ls *.yaml"'),
    task('assign', '"FOO=bar env"'),
    task('brace', '"echo {a,b}"'),
    task('redirect', '"echo hi > out.txt"'),
  ].join('');
  const run = dvm(home, ['apply', '-f', '-'], { input: yaml });
  assert.equal(run.status, 1);
  const line = (task: string) =>
    run.stderr.split('\n').find((l) => l.includes(`Task/${task} spec.command:`)) ?? '';
  assert.match(
    line('glob'),
    /DVM_EXEC_SHELL_SYNTAX <stdin>:\d+:3 Task\/glob spec\.command: command uses a filename pattern \(\*\) at column 4; .*use `shell: "…"`/,
  );
  assert.match(
    line('assign'),
    /Task\/assign spec\.command: command uses an environment assignment \(FOO=\) at column 1/,
  );
  assert.match(line('brace'), /Task\/brace spec\.command: command uses a brace expansion \(\{\) at column 6/);
  assert.match(
    line('redirect'),
    /Task\/redirect spec\.command: command uses an output redirection \(>\) at column 9/,
  );
  assert.match(
    run.stderr,
    /fix: Set it in the task's `env: \[\{name: FOO, value: "bar"\}\]` and drop it from the command, or write `shell: "FOO=bar env"`/,
  );
  assert.match(
    run.stderr,
    /fix: Write `shell: "ls \*\.yaml"` instead of `command:` to run it with \/bin\/sh, or quote it \('\*'\) to pass it literally/,
  );
});

test('quoted, the same characters are literal arguments', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${SCOPE}${task('quoted', `"printf '<%s>' '*.yaml' \\"a;b\\" 'FOO=bar' '{a,b}'"`)}`,
  });
  const run = dvmOk(home, ['run', 'task', 'quoted']);
  const id = run.stderr.match(/^run (r\S+):/m)?.[1] ?? '';
  assert.equal(dvmOk(home, ['logs', 'run', id, '--task', 'quoted']).stdout, '<*.yaml><a;b><FOO=bar><{a,b}>');
});

test('a number in an argv list is refused at its element with the quoting fix', () => {
  const home = tempHome();
  const run = dvm(home, ['apply', '-f', '-'], { input: `${SCOPE}${task('sleepy', '[sleep, 5]')}` });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_SCHEMA_INVALID <stdin>:13:20 Task\/sleepy spec\.command\[1\]: must be a string, not a number\n {4}fix: Quote it: "5" \(YAML reads 5 as a number; this field takes text\)\./,
  );
  assert.doesNotMatch(run.stderr, /allowed form/);
});
