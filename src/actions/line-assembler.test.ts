import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineAssembler } from './line-assembler.ts';

function assemble(writes: [string, string][], maxLineChars?: number, flush = true): [string, string][] {
  const found: [string, string][] = [];
  const lines = new LineAssembler<string>((stream, line) => found.push([stream, line]), maxLineChars);
  for (const [stream, text] of writes) lines.write(stream, text);
  if (flush) lines.flush();
  return found;
}

test('lines written in pieces are handed on whole, per stream, without their \\n or \\r\\n', () => {
  assert.deepEqual(
    assemble([
      ['out', 'hel'],
      ['err', 'oops'],
      ['out', 'lo\r\nwor'],
      ['out', 'ld\n\nlast'],
      ['err', '!\n'],
    ]),
    [
      ['out', 'hello'],
      ['out', 'world'],
      ['out', ''],
      ['err', 'oops!'],
      ['out', 'last'],
    ],
  );
});

test('nothing waits after flush, and what has not ended is held until then', () => {
  assert.deepEqual(assemble([['out', 'no newline']], undefined, false), []);
  assert.deepEqual(assemble([['out', 'no newline']]), [['out', 'no newline']]);
});

test('a line longer than the limit is handed on in pieces of the limit, never between a surrogate pair', () => {
  assert.deepEqual(
    assemble(
      [
        ['out', 'abcdefghij'],
        ['out', 'kl\n'],
      ],
      4,
    ),
    [
      ['out', 'abcd'],
      ['out', 'efgh'],
      ['out', 'ijkl'],
    ],
  );
  // '😀' is two UTF-16 units: a cut after its first would split it.
  const pieces = assemble([['out', 'abc😀def']], 4).map(([, line]) => line);
  assert.deepEqual(pieces, ['abc', '😀de', 'f']);
});

test('a long line in many small chunks is handed on once, whole', () => {
  // 4 MiB in 64-byte chunks (held as parts, joined once: joining on every chunk would copy ~128 GiB).
  const chunk = 'x'.repeat(64);
  const found: string[] = [];
  const lines = new LineAssembler<string>((_stream, line) => found.push(line), 8 * 1024 * 1024);
  for (let i = 0; i < 65_536; i++) lines.write('out', chunk);
  lines.write('out', '\n');
  assert.equal(found.length, 1);
  assert.equal(found[0].length, 4 * 1024 * 1024);
});

test('each text handed on says which part of its line it is: whole, or the first, a middle or the last piece', () => {
  const found: [string, string, string][] = [];
  const lines = new LineAssembler<string>((stream, line, part) => found.push([stream, line, part]), 4);
  lines.write('out', 'short\nabcdefghij');
  lines.write('err', 'wxyz12');
  lines.write('out', 'k\r\nok\n');
  lines.write('err', '34\nlast');
  lines.flush();
  assert.deepEqual(found, [
    ['out', 'short', 'whole'], // 5 characters: held whole, it ended before the limit was passed
    ['out', 'abcd', 'first'],
    ['out', 'efgh', 'middle'],
    ['err', 'wxyz', 'first'],
    ['out', 'ijk', 'last'],
    ['out', 'ok', 'whole'],
    ['err', '1234', 'last'],
    ['err', 'last', 'whole'],
  ]);
  // A cut line that has not ended when the output ends is handed on as its last piece by flush.
  const open: string[] = [];
  const cut = new LineAssembler<string>((_stream, line, part) => open.push(`${part}:${line}`), 4);
  cut.write('out', 'abcdefg');
  cut.flush();
  assert.deepEqual(open, ['first:abcd', 'last:efg']);
});
