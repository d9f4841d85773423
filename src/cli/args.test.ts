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

test('any flag of one value given twice with two values is DVM_USAGE; repeatable flags and switches repeat freely', () => {
  for (const argv of [
    ['action', 'run', 'x', '--request-id', 'a', '--request-id', 'b'],
    ['audit', '--actor', 'local', '--actor', 'nobody'],
    ['audit', '--decision', 'executed', '--decision', 'allowed'],
    ['execution', 'list', '--status', 'running', '--status', 'failed'],
    ['get', 'apps', '-o', 'json', '--output', 'yaml'],
  ]) {
    assert.throws(
      () => parseCommandLine(argv),
      (e: DvmError) =>
        e.code === 'DVM_USAGE' && /is given twice: /.test(e.message) && /once/.test(e.fix ?? ''),
      argv.join(' '),
    );
  }
  const fine = parseCommandLine([
    'action',
    'run',
    'x',
    '--param',
    'a=1',
    '--param',
    'b=2',
    '-y',
    '--yes',
    '--request-id',
    'r',
    '--request-id',
    'r',
  ]);
  assert.deepEqual(fine.flags.param, ['a=1', 'b=2']);
  assert.equal(fine.flags['request-id'], 'r');
});

test('flag mistakes are said in dvm’s words, with a fix (not Node’s parser messages)', () => {
  const usage = (argv: string[], message: RegExp, fix: RegExp) =>
    assert.throws(
      () => parseCommandLine(argv),
      (e: DvmError) => e.code === 'DVM_USAGE' && message.test(e.message) && fix.test(e.fix ?? ''),
    );
  usage(
    ['action', 'run', 'x', '--parm', 'a=1'],
    /^unknown flag --parm \(did you mean "--param"\?\)$/,
    /after `--`/,
  );
  usage(
    ['token', 'create', '--ttl', '-5m'],
    /^--ttl is followed by something that looks like a flag/,
    /--ttl=-VALUE/,
  );
  usage(['token', 'create', '--ttl'], /^--ttl needs a value$/, /--ttl VALUE/);
  usage(['action', 'run', 'x', '--yes=3'], /^--yes is a switch: it takes no value$/, /--yes alone/);
});
