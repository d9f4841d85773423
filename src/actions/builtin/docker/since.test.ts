import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DvmError } from '../../../errors/dvm-error.ts';
import { ActionRegistry } from '../../registry.ts';
import { dockerLogsAction } from './logs.ts';
import { dockerSince, SINCE_PATTERN } from './since.ts';

// Refused by dockerSince only when it runs: the shape is right, the day, hour, offset or size is not.
const RIGHT_SHAPE = new Set([
  '99999999999999999999',
  '253402300800',
  '2026-02-30T00:00:00Z',
  '2026-02-29T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-11-30T24:00:00Z',
  '2026-11-30T10:60:00Z',
  '2026-11-30T10:00:60Z',
  '2026-11-30T10:00:00+24:00',
  '36501d',
]);

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0, 250); // 2026-11-30T12:00:00.250Z
const S = Math.floor(NOW / 1000); // whole seconds of NOW; its milliseconds are .250

test('dockerSince reads durations back from now, RFC 3339 times and Unix seconds as Docker does', () => {
  const cases: [string, string][] = [
    // Unix seconds (Docker's reading of an all-digit value), passed on as they are.
    ['10', '10'],
    ['0', '0'],
    ['1700000000', '1700000000'],
    ['1700000000.5', '1700000000.5'],
    ['1700000000.123456789', '1700000000.123456789'],
    // A duration back from now, to the millisecond.
    ['1h', `${S - 3600}.250`],
    ['1h30m', `${S - 5400}.250`],
    ['500ms', `${S - 1}.750`],
    ['250ms', `${S}`],
    // Longer ago than the epoch: everything.
    ['36500d', '0'],
    // RFC 3339, with its offset; a fraction is kept to the nanosecond.
    ['2026-11-30T10:00:00Z', `${Date.UTC(2026, 10, 30, 10) / 1000}`],
    ['2026-11-30t10:00:00z', `${Date.UTC(2026, 10, 30, 10) / 1000}`],
    ['2026-11-30 10:00:00Z', `${Date.UTC(2026, 10, 30, 10) / 1000}`],
    ['2026-11-30T10:00Z', `${Date.UTC(2026, 10, 30, 10) / 1000}`],
    ['2026-11-30T10:00:00+01:00', `${Date.UTC(2026, 10, 30, 9) / 1000}`],
    ['2026-11-30T10:00:00-02:30', `${Date.UTC(2026, 10, 30, 12, 30) / 1000}`],
    ['2026-11-30T10:00:00.25Z', `${Date.UTC(2026, 10, 30, 10) / 1000}.25`],
    ['2026-11-30T10:00:00.000000001Z', `${Date.UTC(2026, 10, 30, 10) / 1000}.000000001`],
    ['2024-02-29T00:00:00Z', `${Date.UTC(2024, 1, 29) / 1000}`],
    ['1969-12-31T23:59:59Z', '0'],
    ['0050-01-01T00:00:00Z', '0'],
    ['1970-01-01T00:00:01+00:00', '1'],
  ];
  for (const [since, expected] of cases) assert.equal(dockerSince(since, NOW), expected, since);
  // The input schema's pattern lets every one of them through.
  const shape = new RegExp(SINCE_PATTERN);
  for (const [since] of cases) assert.ok(shape.test(since), since);
});

test('dockerSince refuses anything else as DVM_ACTION_INPUT_INVALID on since, naming the accepted forms', () => {
  // Refused by the schema's pattern already (the wrong shape), and by dockerSince only (RIGHT_SHAPE).
  const wrongShape = [
    '',
    '1hfoo',
    '10x',
    'yesterday',
    'March 7, 2026',
    '-5',
    '+5',
    ' 10',
    '10 ',
    '1e9',
    '0x10',
    '10.',
    '.5',
    '1700000000.1234567890',
    '2026-11-30',
    '2026-11-30T10:00:00',
    '2026-11-30T10:00:00.5',
    '2026-11-30T10:00:00.1234567890Z',
    '2026-11-30T10:00:00+0100',
    '1h-',
  ];
  const refused = [...wrongShape, ...RIGHT_SHAPE];
  for (const since of refused) {
    assert.throws(
      () => dockerSince(since, NOW),
      (e: DvmError) => {
        assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID', `${JSON.stringify(since)}: ${e.code}`);
        assert.equal(e.location.path, 'since');
        assert.equal(e.details.origin, 'user');
        assert.match(e.fix ?? '', /10m.*RFC 3339.*Unix seconds/);
        return true;
      },
      JSON.stringify(since),
    );
  }
  // The rest are refused by validation already, so a dry run refuses them too, naming the same forms.
  const registry = new ActionRegistry().register(dockerLogsAction);
  for (const since of wrongShape) {
    assert.throws(
      () => registry.validateInput(dockerLogsAction, { container: 'web', since }),
      (e: DvmError) => {
        assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID', JSON.stringify(since));
        assert.match(e.message, /since/);
        assert.match(JSON.stringify(e.causes), /10m.*RFC 3339.*Unix seconds/);
        return true;
      },
      JSON.stringify(since),
    );
  }
});
