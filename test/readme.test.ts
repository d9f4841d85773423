import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../src/errors/codes.ts';

test('the README documents every error code of the taxonomy', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const missing = Object.keys(ERROR_CODES).filter((code) => !readme.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});

test("the HTTP status the README's code table gives a code is the one the API answers with", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const wrong: string[] = [];
  for (const row of readme.split('\n').filter((line) => line.startsWith('| `DVM_'))) {
    // "`A` / `B` (400) / `C` (404)": a status applies to the codes since the previous one.
    for (const [, codes, status] of row.split('|')[1].matchAll(/([^()]*?)\((\d{3})\)/g)) {
      for (const code of codes.match(/DVM_[A-Z_]+/g) ?? []) {
        const http = ERROR_CODES[code as keyof typeof ERROR_CODES]?.http;
        if (http !== Number(status)) wrong.push(`${code}: README ${status}, API ${http}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});
