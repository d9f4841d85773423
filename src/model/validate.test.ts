import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION } from './api.ts';
import { BUILTIN_SCHEMAS } from './kinds/index.ts';
import { SchemaValidator } from './validate.ts';

const validator = new SchemaValidator();

function problemsOf(kind: string, spec: unknown) {
  const data = { apiVersion: API_VERSION, kind, metadata: { name: 'example', domain: 'd' }, spec };
  return validator
    .validate(kind, BUILTIN_SCHEMAS[kind], data, `dvm explain ${kind.toLowerCase()}`)
    .map(({ path, message, fix }) => ({ path: path.join('.'), message, fix }));
}

test('a number or boolean in an argv list is named by its element, with the quoting fix', () => {
  assert.deepEqual(problemsOf('Task', { command: ['sleep', 5] }), [
    {
      path: 'spec.command.1',
      message: 'must be a string, not a number',
      fix: 'Quote it: "5" (YAML reads 5 as a number; this field takes text).',
    },
  ]);
  assert.deepEqual(
    problemsOf('Task', { command: ['echo', true, 'x', 1.5] }).map((p) => `${p.path}: ${p.message}; ${p.fix}`),
    [
      'spec.command.1: must be a string, not a boolean; Quote it: "true" (YAML reads true as a boolean; this field takes text).',
      'spec.command.3: must be a string, not a number; Quote it: "1.5" (YAML reads 1.5 as a number; this field takes text).',
    ],
  );
});

test('a union keeps its own message when the value has the type of no branch, or of several', () => {
  const [scalar] = problemsOf('Task', { command: 5 });
  assert.equal(scalar.path, 'spec.command');
  assert.match(scalar.message, /^does not match any allowed form/);
  const [entry] = problemsOf('Workflow', { tasks: [{ name: 'lint' }] });
  assert.equal(entry.path, 'spec.tasks.0');
  assert.match(entry.message, /^does not match any allowed form/);
});

test('an empty list or string in a union says it must not be empty', () => {
  assert.deepEqual(
    problemsOf('Task', { command: [] }).map((p) => `${p.path}: ${p.message}`),
    ['spec.command: must not be empty'],
  );
  assert.deepEqual(
    problemsOf('Task', { command: '' }).map((p) => `${p.path}: ${p.message}`),
    ['spec.command: must not be empty'],
  );
});
