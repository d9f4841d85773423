import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifactOf, TailArtifact } from './artifact.ts';

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

test('TailArtifact gives what artifactOf gives for the whole output, keeping only about its budget', () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (const max of [1, 10, 64, 1000, 100_000]) {
    const tail = new TailArtifact(max);
    let whole = '';
    for (let i = 0; i < 2000; i++) {
      const line = `${'xé€😀'.repeat(Math.floor(random() * 20))}${i}\n`;
      tail.push(line);
      whole += line;
    }
    assert.deepEqual(tail.artifact(), artifactOf(whole, max), `max ${max}`);
  }
  const small = new TailArtifact(10);
  for (let i = 0; i < 10; i++) small.push('short\n');
  assert.deepEqual(small.artifact(), artifactOf('short\n'.repeat(10), 10));
});
