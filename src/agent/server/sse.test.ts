import assert from 'node:assert/strict';
import { test } from 'node:test';
import { followOf, resumeAfter } from './sse.ts';

test('resumeAfter reads Last-Event-ID (or last_event_id) as a decimal integer and refuses anything else', () => {
  const ok: [string | undefined, unknown, number][] = [
    [undefined, undefined, 0],
    ['', undefined, 0],
    ['0', undefined, 0],
    ['42', undefined, 42],
    ['007', undefined, 7],
    [undefined, { last_event_id: '9' }, 9],
    ['3', { last_event_id: '9' }, 3],
  ];
  for (const [header, query, expected] of ok)
    assert.equal(resumeAfter(header, query), expected, String(header));
  const bad: [string | undefined, unknown][] = [
    ['99999999999999999999', undefined],
    ['abc', undefined],
    ['1e3', undefined],
    ['-1', undefined],
    ['0x10', undefined],
    ['1.5', undefined],
    [undefined, { last_event_id: ['1', '2'] }],
    [undefined, { last_event_id: 'x' }],
  ];
  for (const [header, query] of bad)
    assert.throws(
      () => resumeAfter(header, query),
      { code: 'DVM_EVENT_ID_INVALID' },
      `${header} ${JSON.stringify(query)}`,
    );
});

test('followOf: absent or true follows, false does not, anything else is DVM_QUERY_INVALID at follow', () => {
  assert.equal(followOf(undefined), true);
  assert.equal(followOf({}), true);
  assert.equal(followOf({ follow: 'true' }), true);
  assert.equal(followOf({ follow: 'false' }), false);
  for (const follow of ['0', 'no', 'False', '', ['false', 'false']])
    assert.throws(() => followOf({ follow }), { code: 'DVM_QUERY_INVALID' }, JSON.stringify(follow));
});
