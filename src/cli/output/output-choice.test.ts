import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DvmError } from '../../errors/dvm-error.ts';
import type { CommandContext } from '../command.ts';
import { outputChoice } from './output-choice.ts';

const given = (output?: string) =>
  ({ flags: output === undefined ? {} : { output } }) as unknown as CommandContext;

test('outputChoice: the default when -o is left out, a form the command prints, anything else DVM_USAGE', () => {
  assert.equal(outputChoice(given(), ['table', 'json'], 'dvm policy list'), 'table');
  assert.equal(outputChoice(given('json'), ['table', 'json'], 'dvm policy list'), 'json');
  assert.throws(
    () => outputChoice(given('yaml'), ['table', 'json'], 'dvm policy list'),
    (e: DvmError) =>
      e.code === 'DVM_USAGE' &&
      e.message === 'dvm policy list prints table or json, not -o yaml' &&
      /-o json/.test(e.fix ?? ''),
  );
});
