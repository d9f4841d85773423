import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalLines, terminalText } from './terminal-text.ts';

test('terminalText writes controls, DEL, C1 and bidi overrides/isolates as visible escapes, on one line', () => {
  assert.equal(terminalText('a\nb\rc\td'), 'a\\nb\\rc\\td');
  assert.equal(terminalText('x\u001b[2K\u001b[1Gforged'), 'x\\x1b[2K\\x1b[1Gforged');
  assert.equal(terminalText('\u0000\u0007\u0008\u001f\u007f'), '\\x00\\x07\\x08\\x1f\\x7f');
  assert.equal(terminalText('\u0080\u009b31m\u009f'), '\\x80\\x9b31m\\x9f');
  assert.equal(
    terminalText('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069'),
    '\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069',
  );
  assert.equal(terminalText('\u0085next line \u2028 kept'), '\\x85next line \u2028 kept');
});

test('terminalText leaves printable text alone: ASCII, accents, CJK, emoji, other Unicode', () => {
  for (const text of [
    'env=prod,note=ok',
    'café ü',
    '日本語',
    '🚀 deploy',
    'a\\nb (a backslash and n)',
    '\u00a0\u2065\u206a',
  ])
    assert.equal(terminalText(text), text);
  assert.equal(terminalText(42), '42');
  assert.equal(terminalText(undefined), 'undefined');
});

test('terminalLines keeps newlines and tabs but escapes every other control, as terminalText does', () => {
  assert.equal(terminalLines('error: x\n  fix:\tdo y\n'), 'error: x\n  fix:\tdo y\n');
  assert.equal(
    terminalLines('no such container "\u001b[2J\u001b[Hok"\r'),
    'no such container "\\x1b[2J\\x1b[Hok"\\r',
  );
  assert.equal(terminalLines('\u009b31m\u202eabc'), '\\x9b31m\\u202eabc');
});
