import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifactOf } from './artifact.ts';

test('artifactOf keeps short output whole with its byte count', () => {
  const a = artifactOf('héllo', 100);
  assert.deepEqual(a, {
    contentType: 'text/plain; charset=utf-8',
    content: 'héllo',
    bytes: 6,
    totalBytes: 6,
    truncated: false,
  });
});

test('artifactOf keeps the tail by default and never splits a UTF-8 character', () => {
  const a = artifactOf('ab€€', 4); // 2 + 3 + 3 = 8 bytes; the last 4 start inside the first €
  assert.equal(a.truncated, true);
  assert.equal(a.totalBytes, 8);
  assert.equal(a.content, '€');
  assert.equal(a.bytes, 3);
});

test('artifactOf keep: head keeps the beginning and drops a split character', () => {
  const a = artifactOf('ab€€', 4, { keep: 'head' });
  assert.equal(a.content, 'ab');
  assert.equal(a.bytes, 2);
  assert.equal(a.truncated, true);
});
