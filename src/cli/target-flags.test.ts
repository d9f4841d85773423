import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DvmError } from '../errors/dvm-error.ts';
import { targetFromFlags } from './target-flags.ts';

test('targetFromFlags: --env and --target pairs make the target; env defaults to dev', () => {
  assert.deepEqual(targetFromFlags(undefined, undefined), { env: 'dev' });
  assert.deepEqual(targetFromFlags('prod', ['namespace=web', 'env=prod']), { env: 'prod', namespace: 'web' });
  assert.deepEqual(targetFromFlags(undefined, ['env=stage']), { env: 'stage' });
  // env comes first, whatever the order given (the target's text reads env=…,key=…).
  assert.deepEqual(Object.keys(targetFromFlags(undefined, ['cluster=eu', 'env=dev'])), ['env', 'cluster']);
});

test('targetFromFlags: a key given twice with two values is DVM_USAGE, never the last one silently', () => {
  const usage = (pattern: RegExp) => (e: DvmError) => e.code === 'DVM_USAGE' && pattern.test(e.message);
  assert.throws(
    () => targetFromFlags('prod', ['env=dev']),
    usage(/the target's env is given twice: --env prod and --target env=dev/),
  );
  assert.throws(
    () => targetFromFlags(undefined, ['env=stage', 'env=dev']),
    usage(/env=stage and --target env=dev/),
  );
  assert.throws(() => targetFromFlags(undefined, ['ns=a', 'ns=b']), usage(/ns is given twice/));
});
