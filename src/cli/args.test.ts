import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DvmError } from '../errors/dvm-error.ts';
import { parseCommandLine } from './args.ts';

test('-f follows in dvm logs and names a file everywhere else, as in kubectl', () => {
  const logs = parseCommandLine(['logs', 'run', 'r1', '-f', '--task', 'build']);
  assert.equal(logs.verb, 'logs');
  assert.deepEqual(logs.positionals, ['run', 'r1']);
  assert.equal(logs.flags.follow, true);
  assert.equal(logs.flags.filename, undefined);
  assert.equal(parseCommandLine(['logs', 'dependency', 'db', '-f']).flags.follow, true);
  assert.deepEqual(parseCommandLine(['apply', '-f', 'logs']).flags.filename, ['logs']);
  assert.deepEqual(parseCommandLine(['apply', '-f', 'a.yaml', '-f', 'b.yaml']).flags.filename, [
    'a.yaml',
    'b.yaml',
  ]);
});

test('--env given twice with two environments is DVM_USAGE (the same one twice is fine)', () => {
  assert.throws(
    () => parseCommandLine(['action', 'run', 'x', '--env', 'prod', '--env', 'dev']),
    (e: DvmError) => e.code === 'DVM_USAGE' && /--env is given twice: prod and dev/.test(e.message),
  );
  assert.equal(parseCommandLine(['action', 'run', 'x', '--env', 'prod', '--env', 'prod']).flags.env, 'prod');
});
