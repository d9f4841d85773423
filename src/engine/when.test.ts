import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDvmError } from '../errors/dvm-error.ts';
import { findResultRefs, substituteResults } from './results.ts';
import { evaluateWhen } from './when.ts';

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
] as const) {
  test(`when ${condition} → ${expected}`, () => assert.equal(evaluateWhen(condition), expected));
}

test('a malformed condition is a coded error', () => {
  assert.throws(
    () => evaluateWhen("'a' === 'b' && x"),
    (e) => isDvmError(e) && e.code === 'DVM_SCHEMA_INVALID',
  );
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
