import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DvmError } from '../../errors/dvm-error.ts';
import { parseJsonBody } from './json-body.ts';

test('parseJsonBody refuses __proto__ keys and constructor.prototype at any depth, naming the path', () => {
  const refused: [string, string][] = [
    ['{"__proto__": {"admin": true}}', '__proto__'],
    ['{"params": {"list": [1, {"__proto__": {}}]}}', 'params.list[1].__proto__'],
    ['{"params": {"\\u005f_proto__": 1}}', 'params.__proto__'],
    ['{"target": {"constructor": {"prototype": {"x": 1}}}}', 'target.constructor.prototype'],
  ];
  for (const [body, path] of refused) {
    assert.throws(
      () => parseJsonBody(body),
      (error: { code: string; location: { path: string }; message: string }) =>
        error.code === 'DVM_REQUEST_FORBIDDEN_KEY' &&
        error.location.path === path &&
        error.message.includes(path),
      body,
    );
  }
  const accepted: [string, unknown][] = [
    [
      '{"params": {"constructor": "a name", "prototype": 1, "proto": "x"}}',
      { params: { constructor: 'a name', prototype: 1, proto: 'x' } },
    ],
    ['{"message": "\\u00e9t\\u00e9"}', { message: 'été' }],
    ['[1, 2]', [1, 2]],
  ];
  for (const [body, value] of accepted) assert.deepEqual(parseJsonBody(body), value, body);
});

test('parseJsonBody says why a body is malformed', () => {
  assert.throws(() => parseJsonBody(''), { code: 'DVM_REQUEST_MALFORMED', message: /empty/ });
  assert.throws(() => parseJsonBody('{"a": '), {
    code: 'DVM_REQUEST_MALFORMED',
    message: /not valid JSON: /,
  });
});

test('parseJsonBody refuses a key repeated in one object, naming its path (escaped spellings are the same key)', () => {
  const repeated: [string, string][] = [
    ['{"dry_run": true, "dry_run": false}', 'dry_run'],
    ['{"target": {"env": "prod", "env": "dev"}}', 'target.env'],
    ['{"target": {"env": "prod", "\\u0065nv": "dev"}}', 'target.env'],
    ['{"params": {"list": [{"a": 1}, {"b": 2, "b": 3}]}}', 'params.list[1].b'],
    ['[{"x": [1, {"k": "a,\\"k\\":", "k": 2}]}]', '[0].x[1].k'],
  ];
  for (const [body, path] of repeated) {
    assert.throws(
      () => parseJsonBody(body),
      (error: DvmError) =>
        error.code === 'DVM_REQUEST_MALFORMED' &&
        error.location.path === path &&
        /repeats the key/.test(error.message),
      body,
    );
  }
  // The same key in sibling objects, keys that look alike inside string values, and escapes that differ are fine.
  const fine: string[] = [
    '{"a": {"k": 1}, "b": {"k": 2}, "k": 3}',
    '{"a": "\\"a\\": 1", "b": ["a", "a"]}',
    '{"e\\\\": 1, "e": 2}',
    '{"a": {}, "b": [], "c": [[], {}]}',
  ];
  for (const body of fine) assert.deepEqual(parseJsonBody(body), JSON.parse(body), body);
});

test('parseJsonBody reads bytes as UTF-8, refusing malformed bytes instead of replacing them', () => {
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  assert.deepEqual(parseJsonBody(bytes('{"v": "é😀"}')), { v: 'é😀' });
  for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80]]) {
    assert.throws(() => parseJsonBody(bytes('{"v": "a', bad, 'b"}')), {
      code: 'DVM_REQUEST_MALFORMED',
      message: /not valid UTF-8/,
    });
  }
  assert.throws(() => parseJsonBody(bytes([0xef, 0xbb, 0xbf], '{}')), {
    code: 'DVM_REQUEST_MALFORMED',
    message: /not valid JSON/,
  });
});

test('the duplicate-key scan looks 64 levels deep; a body nested deeper is left to its route’s depth limit', () => {
  const deep = `${'['.repeat(100)}{"a": 1, "a": 2}${']'.repeat(100)}`;
  assert.deepEqual(parseJsonBody(deep), JSON.parse(deep));
  const shallow = `${'['.repeat(10)}{"a": 1, "a": 2}${']'.repeat(10)}`;
  assert.throws(
    () => parseJsonBody(shallow),
    (e: DvmError) => e.location.path === '[0][0][0][0][0][0][0][0][0][0].a',
  );
});
