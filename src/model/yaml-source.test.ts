import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlSource } from './yaml-source.ts';

test('documents with only comments, and a trailing ---, are skipped as kubectl skips them', () => {
  const parsed = parseYamlSource('kind: A\n---\n# only a comment\n---\nkind: B\n---\n', 'x.yaml');
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(
    parsed.documents.map((d) => [d.index, d.data]),
    [
      [0, { kind: 'A' }],
      [2, { kind: 'B' }],
    ],
  );
  assert.deepEqual(
    parseYamlSource('- not\n- a mapping\n', 'y.yaml').documents.length,
    1,
    'a list is still a document',
  );
});

test('a __proto__ key, or constructor.prototype, is refused at its file:line (a copy would drop it silently)', () => {
  const text = 'kind: Task\nspec:\n  params:\n    details:\n      __proto__: {target: prod-db}\n';
  const parsed = parseYamlSource(text, 't.yaml');
  assert.deepEqual(parsed.documents, []);
  assert.equal(parsed.errors.length, 1);
  assert.deepEqual(
    { ...parsed.errors[0], fix: undefined },
    {
      code: 'DVM_SCHEMA_INVALID',
      message:
        'the key "__proto__" at spec.params.details.__proto__ is not allowed ("__proto__" and "constructor.prototype" are never accepted)',
      file: 't.yaml',
      line: 5,
      column: 7,
      fix: undefined,
    },
  );
  const ctor = parseYamlSource('kind: A\nspec:\n  - constructor: {prototype: {x: 1}}\n', 'c.yaml');
  assert.match(String(ctor.errors[0]?.message), /at spec\[0\]\.constructor\.prototype is not allowed/);
  assert.equal(ctor.errors[0]?.line, 3);
});

test('a document whose alias contains itself is read without hanging (the forbidden-key walk visits each object once)', () => {
  const parsed = parseYamlSource('kind: A\nspec: &s {self: *s, x: 1}\n', 'cycle.yaml');
  assert.equal(parsed.errors.length + parsed.documents.length, 1);
  const proto = parseYamlSource('kind: A\nspec: &s {self: *s, deeper: {__proto__: 1}}\n', 'cycle-proto.yaml');
  assert.match(
    String(proto.errors[0]?.message),
    /the key "__proto__" at spec\.deeper\.__proto__ is not allowed/,
  );
});
