import assert from 'node:assert/strict';
import { test } from 'node:test';
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
