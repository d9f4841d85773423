import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDvmError } from '../errors/dvm-error.ts';
import { findResultRefs, substituteResults } from './results.ts';
import { evaluateWhen, type WhenRef } from './when.ts';

for (const [condition, expected] of [
  ["'ok' == 'ok'", true],
  ["'ok' == 'nok'", false],
  ["'a' != 'b'", true],
  ['main == main', true],
  ['"x y" == "x y"', true],
  ["'true'", true],
  ["'false'", false],
  ["''", false],
  ['0', false],
  ['yes', true],
  ['False', false],
  ["'a' == 'a' && 'b' == 'b'", true],
  ["'a' == 'a' && 'b' == 'c'", false],
  ["'a' == 'x' || 'b' == 'b'", true],
  ["!('a' == 'b')", true],
  ["! 'a' == 'a'", false],
  ['!no', true],
  ['!!yes', true],
  // && binds tighter than ||; parentheses override.
  ['yes || yes && no', true],
  ['(yes || yes) && no', false],
  ["'a'=='a'&&('b'!='b'||!0)", true],
] as const) {
  test(`when ${condition} → ${expected}`, () => assert.equal(evaluateWhen(condition), expected));
}

for (const [condition, column] of [
  ["'a' === 'b' && x", 7],
  ["'a' = 'b'", 5],
  ["'a' & 'b'", 5],
  ["'a' == ", 8],
  ["'a' 'b'", 5],
  ["('a' == 'a'", 12],
  ["'a' == 'a')", 11],
  ["'unterminated", 1],
  ['', 1],
  ["'$(tasks.x.result.y)' == 'y'", 2],
  ['$(params.x)', 1],
] as const) {
  test(`when ${JSON.stringify(condition)} is refused at column ${column}`, () => {
    assert.throws(
      () => evaluateWhen(condition),
      (e) =>
        isDvmError(e) &&
        e.code === 'DVM_SCHEMA_INVALID' &&
        e.location.path === 'spec.when' &&
        e.message.endsWith(`at column ${column}`) &&
        Boolean(e.fix),
    );
  });
}

// Values that would break a condition if they were spliced into its text.
const AWKWARD = [
  'yes',
  "it's done",
  "''yes''",
  'a == a',
  "x' == 'x",
  'a && b',
  "') || ('",
  ' padded ',
  '',
  '"q"',
  '!',
  '`date` $HOME',
];

test('a reference compares its value exactly, quoted or bare, whatever the value holds', () => {
  for (const value of AWKWARD) {
    const resolve = (ref: WhenRef) => (ref.kind === 'result' && ref.task === 'check' ? value : 'other');
    for (const ref of [
      "'$(tasks.check.results.changed)'",
      '"$(tasks.check.results.changed)"',
      '$(tasks.check.results.changed)',
    ]) {
      const literal = value.includes("'") ? `"${value}"` : `'${value}'`;
      if (!value.includes('"') || !value.includes("'")) {
        assert.equal(
          evaluateWhen(`${ref} == ${literal}`, resolve),
          true,
          `${ref} == ${literal} with ${value}`,
        );
      }
      assert.equal(evaluateWhen(`${ref} != 'other'`, resolve), value !== 'other', value);
      assert.equal(evaluateWhen(`${ref} == $(tasks.check.results.changed)`, resolve), true, value);
      assert.equal(evaluateWhen(`${ref} == $(tasks.other.results.x)`, resolve), false, value);
    }
  }
});

test('the README example is true when the result is yes', () => {
  const resolve = () => 'yes';
  assert.equal(evaluateWhen("'$(tasks.check.results.changed)' == 'yes'", resolve), true);
  assert.equal(evaluateWhen("'$(tasks.check.results.changed)'", resolve), true);
  assert.equal(
    evaluateWhen("'$(tasks.check.results.changed)'", () => 'no'),
    false,
  );
});

test('references join the literal text around them in one operand', () => {
  const resolve = (ref: WhenRef) => (ref.kind === 'env' ? `env:${ref.name}` : `${ref.task}.${ref.result}`);
  assert.equal(evaluateWhen("'v$(tasks.b.results.version)-rc' == 'vb.version-rc'", resolve), true);
  assert.equal(evaluateWhen("'$(env.BRANCH)' == 'env:BRANCH'", resolve), true);
  assert.equal(evaluateWhen('x$(env.A)y == xenv:Ay', resolve), true);
});

test('&& and || resolve only the side they evaluate', () => {
  const seen: string[] = [];
  const resolve = (ref: WhenRef) => {
    seen.push(ref.text);
    return 'yes';
  };
  assert.equal(evaluateWhen("'$(env.A)' == 'no' && '$(env.B)' == 'yes'", resolve), false);
  assert.equal(evaluateWhen("'$(env.C)' == 'yes' || '$(env.D)' == 'yes'", resolve), true);
  assert.deepEqual(seen, ['$(env.A)', '$(env.C)']);
});

test('result references are found and substituted inside one string only', () => {
  const text = '--version=$(tasks.build.results.version) $(tasks.x-y.results.sha)';
  assert.deepEqual(
    findResultRefs(text).map((r) => `${r.task}:${r.result}`),
    ['build:version', 'x-y:sha'],
  );
  const out = substituteResults(text, (task, result) =>
    task === 'build' ? `1.2; rm -rf / ${result}` : undefined,
  );
  assert.equal(out, '--version=1.2; rm -rf / version $(tasks.x-y.results.sha)');
});
