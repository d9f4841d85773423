import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { DvmError } from '../../errors/dvm-error.ts';
import { splitCommand } from './argv.ts';
import { parseDuration } from './duration.ts';

// [command, argv] — what /bin/sh would pass to the program, without running a shell.
const SPLITS: [string, string[]][] = [
  ['make build', ['make', 'build']],
  ['  make   build  ', ['make', 'build']],
  ['a\tb', ['a', 'b']],
  ['', []],
  ['   ', []],
  ["echo 'hello world'", ['echo', 'hello world']],
  ['echo "hello world"', ['echo', 'hello world']],
  [`a'b'"c"`, ['abc']],
  ["''", ['']],
  ['echo "" x', ['echo', '', 'x']],
  ["a''", ['a']],
  ["echo 'it''s'", ['echo', 'its']],
  [`echo "it's"`, ['echo', "it's"]],
  [`echo 'say "hi"'`, ['echo', 'say "hi"']],
  ['echo a\\ b', ['echo', 'a b']],
  ['echo \\"q\\"', ['echo', '"q"']],
  ['echo \\|', ['echo', '|']],
  ['echo \\$HOME', ['echo', '$HOME']],
  ['echo "a\\"b"', ['echo', 'a"b']],
  ['echo "a\\\\b"', ['echo', 'a\\b']],
  ['echo "a\\$b"', ['echo', 'a$b']],
  ['echo "a\\nb"', ['echo', 'a\\nb']],
  ["echo '$HOME | `x` ; & > <'", ['echo', '$HOME | `x` ; & > <']],
  ["echo 'a\\b'", ['echo', 'a\\b']],
  ['echo "|;&<>()"', ['echo', '|;&<>()']],
  ['echo a~b x=~/y', ['echo', 'a~b', 'x=~/y']],
  ["echo '~' \\~", ['echo', '~', '~']],
  ['echo 100$', ['echo', '100$']],
  ['echo "cost: $"', ['echo', 'cost: $']],
  ['git log --format=%h -n1', ['git', 'log', '--format=%h', '-n1']],
  ["find . -name '*.ts'", ['find', '.', '-name', '*.ts']],
  ['ls "*.yaml" \\* \\? "[ab]"', ['ls', '*.yaml', '*', '?', '[ab]']],
  ["echo '{a,b}' \\#x 'a;b'", ['echo', '{a,b}', '#x', 'a;b']],
  ['echo a#b {} {a} x{ a[1 ]', ['echo', 'a#b', '{}', '{a}', 'x{', 'a[1', ']']],
  ['[ -f x ]', ['[', '-f', 'x', ']']],
  ['make FOO=bar', ['make', 'FOO=bar']],
  ["'FOO=bar' env", ['FOO=bar', 'env']],
  ['F"OO=bar" env', ['FOO=bar', 'env']],
  ['=x y', ['=x', 'y']],
  ["'if' x", ['if', 'x']],
  ['echo if ! done', ['echo', 'if', '!', 'done']],
  ['make \\\n  build', ['make', 'build']],
  ['make build\n', ['make', 'build']],
  ['echo "line1\nline2"', ['echo', 'line1\nline2']],
  ['echo $(tasks.build.results.version)', ['echo', '$(tasks.build.results.version)']],
  ['echo --v="$(tasks.b-1.results.sha)"', ['echo', '--v=$(tasks.b-1.results.sha)']],
  ['echo héllo wörld', ['echo', 'héllo', 'wörld']],
];

for (const [command, argv] of SPLITS) {
  test(`splitCommand ${JSON.stringify(command)}`, () => assert.deepEqual(splitCommand(command), argv));
}

test('the splits agree with /bin/sh on the quoting cases', () => {
  // Only the cases sh runs unchanged (no result references, no globs or braces it would expand).
  const comparable = SPLITS.filter(([c]) => c.trim() && !/tasks\.|\*|\{|#/.test(c));
  for (const [command, argv] of comparable) {
    const result = spawnSync('/bin/sh', ['-c', `set -- ${command}\nprintf '%s\\0' "$@"`], {
      encoding: 'utf8',
    });
    const fromShell = result.stdout.split('\0').slice(0, -1);
    assert.deepEqual(fromShell, argv, command);
  }
});

// [command, feature named in the message, column]
const FEATURES: [string, string, number][] = [
  ['ls -la | wc -l', 'a pipe (|)', 8],
  ['make && make test', 'an and-list (&&)', 6],
  ['make || true', 'an or-list (||)', 6],
  ['sleep 1 &', 'a background job (&)', 9],
  ['cd x; make', 'a command separator (;)', 5],
  ['sort < in.txt', 'an input redirection (<)', 6],
  ['echo hi > out.txt', 'an output redirection (>)', 9],
  ['echo hi >> out.txt', 'an append redirection (>>)', 9],
  ['cat <<EOF', 'a here-document (<<)', 5],
  ['(cd x)', 'a subshell parenthesis (()', 1],
  ['echo a)', 'a subshell parenthesis ())', 7],
  ['echo `date`', 'a command substitution (`)', 6],
  ['echo $(date)', 'a command substitution ($()', 6],
  ['echo $HOME', 'a variable ($HOME)', 6],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell syntax under test
  ['echo ${HOME}', 'a parameter expansion (${)', 6],
  ['echo $1', 'a shell expansion ($1)', 6],
  ['echo $?', 'a shell expansion ($?)', 6],
  ['echo "$HOME"', 'a variable ($HOME) inside double quotes', 7],
  ['echo "`date`"', 'a command substitution (`) inside double quotes', 7],
  ['echo "$(date)"', 'a command substitution ($() inside double quotes', 7],
  ['cat ~/.bashrc', 'a home-directory tilde (~)', 5],
  ['~/bin/tool', 'a home-directory tilde (~)', 1],
  ['echo a\necho b', 'a newline (\\n)', 7],
  ['echo $(tasks.x.results.y)', 'a command substitution ($()', 6],
  ['ls *.yaml', 'a filename pattern (*)', 4],
  ['find . -name *.ts', 'a filename pattern (*)', 14],
  ['ls file?.txt', 'a filename pattern (?)', 8],
  ['ls [ab].txt', 'a filename pattern ([)', 4],
  ["ls '*'.yaml *", 'a filename pattern (*)', 13],
  ['echo {a,b}', 'a brace expansion ({)', 6],
  ['echo x{1..3}', 'a brace expansion ({)', 7],
  ['echo a #x', 'a comment (#)', 8],
  ['FOO=bar env', 'an environment assignment (FOO=)', 1],
  ["  A_1='x y' B=2 make", 'an environment assignment (A_1=)', 3],
  ['if true', 'a shell keyword (if)', 1],
  ['! false', 'a shell keyword (!)', 1],
  ['for x in a b', 'a shell keyword (for)', 1],
];

for (const [command, feature, column] of FEATURES) {
  test(`splitCommand refuses ${JSON.stringify(command)}`, () => {
    const resultRefs = !command.includes('tasks.');
    assert.throws(
      () => splitCommand(command, { resultRefs }),
      (e: unknown) => {
        assert.ok(e instanceof DvmError);
        assert.equal(e.code, 'DVM_EXEC_SHELL_SYNTAX');
        assert.ok(e.message.includes(`uses ${feature} at `), e.message);
        assert.ok(e.message.includes('use `shell: "…"` to run it with /bin/sh'), e.message);
        assert.equal(e.location.column, column);
        assert.equal(e.details.origin, 'user');
        assert.ok(e.fix?.includes(`shell: ${JSON.stringify(command)}`), e.fix);
        return true;
      },
    );
  });
}

test('a leading NAME=value suggests env:, and quoting is not offered for it', () => {
  assert.throws(
    () => splitCommand("FOO='a b' env"),
    (e: unknown) =>
      e instanceof DvmError &&
      e.fix ===
        'Set it in the task\'s `env: [{name: FOO, value: "a b"}]` and drop it from the command, or write `shell: "FOO=\'a b\' env"` instead of `command:` to run it with /bin/sh, or give command as a list of arguments.',
  );
});

test('glob, brace, comment, assignment and keyword checks can be turned off for templates no shell reads', () => {
  assert.deepEqual(splitCommand('KEYS user:* #1 {a,b}', { expansions: false }), [
    'KEYS',
    'user:*',
    '#1',
    '{a,b}',
  ]);
  assert.deepEqual(splitCommand('A=b if', { expansions: false }), ['A=b', 'if']);
});

test('the message names the column like the example of the design', () => {
  assert.throws(
    () => splitCommand('cat access.log | grep 500'),
    /command uses a pipe \(\|\) at column 16; dvm runs commands without a shell — use `shell: "…"` to run it with \/bin\/sh/,
  );
});

test('a command of several lines names the line and column', () => {
  assert.throws(() => splitCommand('make \\\n  build | tee log'), /at line 2, column 9/);
});

for (const [command, message, column] of [
  ["echo 'oops", "unterminated single quote (') opened at column 6", 6],
  ['echo "oops', 'unterminated double quote (") opened at column 6', 6],
  [`echo "it's`, 'unterminated double quote (") opened at column 6', 6],
  ['echo oops\\', 'ends with a backslash that escapes nothing at column 10', 10],
] as const) {
  test(`splitCommand refuses ${JSON.stringify(command)} (syntax)`, () => {
    assert.throws(
      () => splitCommand(command),
      (e: unknown) =>
        e instanceof DvmError &&
        e.code === 'DVM_EXEC_SHELL_SYNTAX' &&
        e.message.includes(message) &&
        e.location.column === column &&
        Boolean(e.fix),
    );
  });
}

for (const [text, ms] of [
  ['500ms', 500],
  ['30s', 30_000],
  ['5m', 300_000],
  ['1h30m', 5_400_000],
  ['7d', 604_800_000],
  ['1m30s250ms', 90_250],
  ['0s', 0],
  ['36500d', 3_153_600_000_000],
] as const) {
  test(`parseDuration ${text}`, () => assert.equal(parseDuration(text), ms));
}

for (const text of [
  '',
  '5',
  '5 m',
  '1.5h',
  '-1s',
  'm5',
  '5min',
  '1h 30m',
  '36501d',
  '999999999999999999999d',
]) {
  test(`parseDuration refuses ${JSON.stringify(text)}`, () => {
    assert.throws(
      () => parseDuration(text),
      (e: unknown) => e instanceof DvmError && e.code === 'DVM_SCHEMA_INVALID' && Boolean(e.fix),
    );
  });
}
