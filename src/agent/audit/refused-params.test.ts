import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { REFUSED_PARAMS_MAX_BYTES, refusedParams } from './refused-params.ts';

test('refusedParams keeps params up to the cap whole and cuts larger ones to their size, SHA-256 and first 32 names', () => {
  const small = { container: 'web', tail: 100 };
  assert.equal(refusedParams(small), small);
  assert.equal(refusedParams(undefined), undefined);
  const atCap = { m: 'y'.repeat(REFUSED_PARAMS_MAX_BYTES - '{"m":""}'.length) };
  assert.equal(refusedParams(atCap), atCap);
  const over = { m: `${atCap.m}é` };
  const json = JSON.stringify(over);
  assert.deepEqual(refusedParams(over), {
    '[cut]': {
      bytes: Buffer.byteLength(json),
      sha256: createHash('sha256').update(json).digest('hex'),
      names: ['m'],
    },
  });
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'.repeat(200)]));
  const cut = (refusedParams(many) as { '[cut]': { names: string[]; more_names: number } })['[cut]'];
  assert.equal(cut.names.length, 32);
  assert.equal(cut.more_names, 8);
});
