import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isDvmError } from '../errors/dvm-error.ts';
import { bindShellReferences, shellReferenceContexts } from './shell-refs.ts';

const dir = mkdtempSync(join(tmpdir(), 'dvm-shell-refs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const pwned = join(dir, 'pwned');

// Values that would run a command, or break the script's quoting, if they were spliced into its text.
const PAYLOADS = [
  `feature;touch\${IFS}${pwned};#`,
  `$(touch ${pwned})`,
  `\`touch ${pwned}\``,
  `a"; touch ${pwned}; echo "`,
  `a'; touch ${pwned}; echo '`,
  `line1\ntouch ${pwned}\nline3`,
  `x' "$(touch ${pwned})" '`,
  '*',
  '  spaced  out  ',
  '',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax as a value
  '\\n \\ $HOME ${HOME}',
];

/** Binds the script's references to `value` and runs it with /bin/sh; returns stdout. */
function runBound(script: string, value: string): string {
  const bound = bindShellReferences(script, () => value);
  const result = spawnSync('/bin/sh', ['-c', bound.script], {
    env: { PATH: process.env.PATH, ...bound.env },
    encoding: 'utf8',
    cwd: dir,
  });
  assert.equal(result.status, 0, `${bound.script}\n${result.stderr}`);
  return result.stdout;
}

// [script, what it prints for a value v]
const CONTEXTS: [string, (v: string) => string][] = [
  ['printf \'%s|\' "dq=$(tasks.b.results.branch)"', (v) => `dq=${v}|`],
  ["printf '%s|' plain=$(tasks.b.results.branch)", (v) => `plain=${v}|`],
  ["printf '%s|' $(tasks.b.results.branch)", (v) => `${v}|`],
  ['V="$(tasks.b.results.branch)-suffix"; printf \'%s|\' "$V"', (v) => `${v}-suffix|`],
  ['printf \'%s|\' "$(printf \'%s\' "in $(tasks.b.results.branch)")"', (v) => `in ${v}|`],
  ["printf '%s|' `printf '%s' $(tasks.b.results.branch)`", (v) => `${v}|`],
  ['cat <<EOF\nhd=$(tasks.b.results.branch)\nEOF', (v) => `hd=${v}\n`],
  ["printf '%s|' 'a' # $(tasks.b.results.branch)", () => 'a|'],
];

for (const [script, expected] of CONTEXTS) {
  test(`a result in ${JSON.stringify(script)} is printed literally and runs nothing`, () => {
    for (const value of PAYLOADS) {
      // An unquoted command substitution splits its output into words: only values without blanks there.
      if (/^printf '%s\|' `/.test(script) && /\s|^$|\*/.test(value)) continue;
      assert.equal(runBound(script, value), expected(value), JSON.stringify(value));
      assert.equal(existsSync(pwned), false, `${JSON.stringify(value)} ran a command`);
    }
  });
}

test('each quoting context gets its own expansion; one variable per distinct reference', () => {
  const script = `echo $(tasks.a.results.x) "$(tasks.a.results.x)" "$(tasks.b.results.y)" # $(tasks.c.results.z)`;
  const bound = bindShellReferences(script, (task, result) => `${task}.${result}`);
  assert.equal(
    bound.script,
    `echo "\${DVM_RESULT_1}" "\${DVM_RESULT_1}" "\${DVM_RESULT_2}" # $(tasks.c.results.z)`,
  );
  assert.deepEqual(bound.env, { DVM_RESULT_1: 'a.x', DVM_RESULT_2: 'b.y' });
  assert.deepEqual(
    shellReferenceContexts(script).map((r) => r.context),
    ['plain', 'double', 'double'],
  );
});

test('a reference inside single quotes is DVM_RESULT_REF: the quoted text may be code for another program', () => {
  for (const script of [
    "echo 'building $(tasks.b.results.branch)'",
    "sh -c 'echo deploying $(tasks.b.results.v)'",
    `echo "$(echo '$(tasks.a.results.x)')"`,
    'awk \'{ print "$(tasks.a.results.x)" }\' file',
  ]) {
    assert.throws(
      () => bindShellReferences(script, () => 'v; touch pwned'),
      (e) =>
        isDvmError(e) && e.code === 'DVM_RESULT_REF' && /single quotes/.test(e.message) && Boolean(e.fix),
      script,
    );
  }
});

test('quotes inside $( ), $-braces and backticks nest; escapes and arithmetic shifts are not mistaken', () => {
  const contexts = (script: string) => shellReferenceContexts(script).map((r) => r.context);
  assert.deepEqual(contexts(`echo "$(echo "$(tasks.a.results.x)")"`), ['double']);
  assert.deepEqual(contexts(`echo "\${X:-$(tasks.a.results.x)}"`), ['plain']);
  assert.deepEqual(contexts(`echo "\\"$(tasks.a.results.x)"`), ['double']);
  assert.deepEqual(contexts(`echo \\' $(tasks.a.results.x)`), ['plain']);
  assert.deepEqual(contexts(`echo $((1 << 2))\necho $(tasks.a.results.x)`), ['plain']);
  assert.deepEqual(
    contexts(`cat <<-'X' && echo $(tasks.a.results.x)\n\tbody\n\tX\necho "$(tasks.a.results.x)"`),
    ['plain', 'double'],
  );
});

test('a reference in a here-document with a quoted delimiter is DVM_RESULT_REF', () => {
  for (const open of ["<<'EOF'", '<<"EOF"', '<<\\EOF', "<<-'EOF'"]) {
    assert.throws(
      () => bindShellReferences(`cat ${open}\nv=$(tasks.a.results.x)\nEOF`, () => 'v'),
      (e) =>
        isDvmError(e) && e.code === 'DVM_RESULT_REF' && e.location.path === 'spec.shell' && Boolean(e.fix),
      open,
    );
  }
  assert.equal(
    bindShellReferences("cat <<'EOF'\nliteral $x\nEOF\n", () => 'v').script,
    "cat <<'EOF'\nliteral $x\nEOF\n",
  );
});

test('a reference in an arithmetic expansion or an array subscript is DVM_RESULT_REF (bash evaluates it there)', () => {
  for (const script of [
    'echo $(( $(tasks.a.results.n) + 1 ))',
    'echo $(( "$(tasks.a.results.n)" * 2 ))',
    `echo "\${list[$(tasks.a.results.n)]}"`,
    'x=$(echo $(( 1 + $(tasks.a.results.n) )))',
    '(( $(tasks.a.results.n) > 1 )) && echo big',
    'if [[ $(tasks.a.results.n) -eq 1 ]]; then echo one; fi',
    `echo "\${x:$(tasks.a.results.n)}"`,
    'let "y=$(tasks.a.results.n)"',
    'declare -i z=$(tasks.a.results.n)',
    'for ((i = 0; i < $(tasks.a.results.n); i++)); do :; done',
  ]) {
    assert.throws(
      () => bindShellReferences(script, () => 'a[$(echo PWNED >&2)]'),
      (e) => isDvmError(e) && e.code === 'DVM_RESULT_REF' && /arithmetic|subscript|offset/.test(e.message),
      script,
    );
  }
  // A default value and a command substitution are not arithmetic.
  assert.equal(
    bindShellReferences(`echo \${X:-$(tasks.a.results.n)} $(echo $(tasks.a.results.n))`, () => 'v').script,
    `echo \${X:-"\${DVM_RESULT_1}"} $(echo "\${DVM_RESULT_1}")`,
  );
});

test('a # inside a braced parameter expansion is part of the word, not a comment: its reference is bound', () => {
  assert.equal(
    bindShellReferences(`echo \${X:- #$(tasks.a.results.n)} # $(tasks.a.results.n)`, () => 'v').script,
    `echo \${X:- #"\${DVM_RESULT_1}"} # $(tasks.a.results.n)`,
  );
});
