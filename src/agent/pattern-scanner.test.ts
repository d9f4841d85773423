import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PatternScanner } from './pattern-scanner.ts';

test('once a second’s time for slow scans is spent, calls answer unscanned at once until the second ends', async () => {
  // `(a+)+$` backtracks exponentially on a run of a's that does not end the text: no budget is ever enough.
  const scanner = new PatternScanner([/sk_live_[a-z]+|(a+)+$/g], '[X]', { slowPerSecondMs: 40 });
  try {
    assert.deepEqual(scanner.scan(['key sk_live_abc'], 1000), ['key [X]'], 'an ordinary call is scanned');
    assert.equal(scanner.scan([`${'a'.repeat(40)}b`], 1000), undefined, 'stopped within the second’s 40 ms');
    // The second's time is spent: an ordinary text is not scanned either (never passed on: the caller marks it).
    assert.equal(scanner.scan(['key sk_live_def'], 1000), undefined);
    await sleep(1100);
    assert.deepEqual(scanner.scan(['key sk_live_ghi'], 1000), ['key [X]'], 'a new second scans again');
  } finally {
    scanner.close();
  }
});

test('scans that finish within their budget never count against the second, however long they take', () => {
  const scanner = new PatternScanner([/corp-[a-z0-9]{24}/g], '[X]', { slowPerSecondMs: 20 });
  try {
    // Some milliseconds each on a megabyte: twenty of them pass 20 ms, but none ran out of its budget.
    const big = `${'a'.repeat(1 << 20)} corp-${'b'.repeat(24)}`;
    for (let i = 0; i < 20; i++)
      assert.equal(scanner.scan([big], 5000)?.[0].endsWith(' [X]'), true, `call ${i}`);
  } finally {
    scanner.close();
  }
});
