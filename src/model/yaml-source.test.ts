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
