import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTable } from './table.ts';

test('a table shows control characters in stored text as escapes, never sends them to the terminal', () => {
  const table = renderTable(
    ['NAME', 'DESCRIPTION'],
    [['ctrl', 'x\u001b]0;pwned\u0007\u001b[31mRED\nnext\ttab']],
  );
  assert.equal(table, 'NAME   DESCRIPTION\nctrl   x\\x1b]0;pwned\\x07\\x1b[31mRED\\x0anext\ttab\n');
});
