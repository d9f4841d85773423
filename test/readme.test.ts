import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../src/errors/codes.ts';

test('the README documents every error code of the taxonomy', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const missing = Object.keys(ERROR_CODES).filter((code) => !readme.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});
