import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRedactor, REDACTED } from '../redact.ts';
import { CUT_KEY_HOLD_MS, CutKeyHold } from './cut-key-hold.ts';
import { cappedLogEvents, lineSplitter } from './log-events.ts';

// The log events of chunks written as an execution's handler writes them (execute.ts: whole lines, per stream).
function logLines(chunks: ['stdout' | 'stderr', string][], maxBytes = 1 << 20): [string, unknown][] {
  const redactor = createRedactor();
  const events: [string, unknown][] = [];
  const logEvents = cappedLogEvents(
    maxBytes,
    (type, data) => events.push(type === 'log' ? [data.stream as string, data.line] : [type, data]),
    (line) => redactor.redact(line) as string,
  );
  const lines = lineSplitter(logEvents.line, maxBytes);
  for (const [stream, chunk] of chunks) lines.write(stream, chunk);
  lines.flush();
  logEvents.flush();
  return events;
}

test('a private key written to a log is redacted from its BEGIN line to its END line; the other stream is not', () => {
  const events = logLines([
    [
      'stdout',
      'writing key\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n',
    ],
    ['stderr', 'warning: key file is world-readable\n'],
    ['stdout', 'QyNTUxOQAAACDk3+Jkq1B2eZ\n-----END OPENSSH PRIVATE KEY-----\ndone password=hunter2\n'],
    ['stderr', 'exit 0\n'],
  ]);
  assert.deepEqual(events, [
    ['stdout', 'writing key'],
    ['stdout', REDACTED],
    ['stdout', REDACTED],
    ['stderr', 'warning: key file is world-readable'],
    ['stdout', REDACTED],
    ['stdout', REDACTED],
    ['stdout', `done password=${REDACTED}`],
    ['stderr', 'exit 0'],
  ]);
});

test('a private key that never ends in a log hides every later line of its stream', () => {
  const events = logLines([['stderr', '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nz9Xy\n']]);
  assert.deepEqual(events, [
    ['stderr', REDACTED],
    ['stderr', REDACTED],
    ['stderr', REDACTED],
  ]);
});

test('a line written in two chunks is one log event, a BEGIN marker cut in two is still seen, and the last line without a newline comes at the end', () => {
  const events = logLines([
    ['stdout', 'hello wo'],
    ['stderr', 'err'],
    ['stdout', 'rld\r\n-----BEGIN RSA PRIV'],
    ['stdout', 'ATE KEY-----\nMIIEowIBAAKCAQEAsecret\n-----END RSA PRIVATE KEY-----\nbye'],
  ]);
  assert.deepEqual(events, [
    ['stdout', 'hello world'],
    ['stdout', REDACTED],
    ['stdout', REDACTED],
    ['stdout', REDACTED],
    ['stdout', 'bye'],
    ['stderr', 'err'],
  ]);
});

test('a secret in a line longer than 64 KiB, written in small chunks, is redacted whole', () => {
  // The password's value starts before the 64 KiB mark and ends after it: a line cut there let its end through.
  const line = `${'x'.repeat(64 * 1024 - 12)} password=hunter2-and-the-rest-of-it ${'y'.repeat(40_000)}`;
  const chunks: ['stdout', string][] = [];
  for (let at = 0; at < line.length; at += 4096) chunks.push(['stdout', line.slice(at, at + 4096)]);
  chunks.push(['stdout', '\nnext\n']);
  const events = logLines(chunks);
  assert.equal(events.length, 2);
  assert.equal(events[0][1], line.replace('hunter2-and-the-rest-of-it', REDACTED));
  assert.deepEqual(events[1], ['stdout', 'next']);
});

test('a line longer than the log cap ends the log events with truncated: no piece of it is streamed', () => {
  const events = logLines(
    [
      ['stdout', 'first\n'],
      ['stdout', `${'a'.repeat(5000)} token=s3cr3t-${'b'.repeat(5000)}`],
      ['stdout', `${'c'.repeat(2000)}\nlast\n`],
    ],
    8192,
  );
  assert.deepEqual(events, [
    ['stdout', 'first'],
    ['truncated', { max_bytes: 8192, streamed_bytes: 6 }],
  ]);
});

test('a piece cut at a surrogate pair is still over the cap: no prefix of a line past the cap is streamed', () => {
  // At a cap of 16 bytes a line is held up to 17 characters. Held up to 16, the cut would fall between the emoji's
  // halves and move back to 15 ASCII characters: 16 bytes with the newline, within the cap, streamed.
  const events = logLines(
    [
      ['stdout', 'sk_live_abcdefg😀hijklmnop'],
      ['stdout', '\n'],
    ],
    16,
  );
  assert.deepEqual(events, [['truncated', { max_bytes: 16, streamed_bytes: 0 }]]);
});

// The body of a private key as PEM writes it: 64-character base64 lines and a shorter last one.
const KEY_BODY = [
  'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2KszSECRETbodyLINEone0123456',
  'bWFkZSB1cCBrZXkgbWF0ZXJpYWwgZm9yIGEgdGVzdA==',
];

test('a log that opens inside a private key (its BEGIN line cut off by a tail) has the key body held and redacted, with a timestamp or a tag before each line', () => {
  assert.deepEqual(
    logLines([
      ['stdout', `${KEY_BODY.join('\n')}\n`],
      ['stdout', '-----END RSA PRIVATE KEY-----\nkey loaded\n'],
      ['stderr', 'other stream\n'],
    ]),
    [
      ['stdout', REDACTED],
      ['stdout', REDACTED],
      ['stdout', '-----END RSA PRIVATE KEY-----'],
      ['stdout', 'key loaded'],
      ['stderr', 'other stream'],
    ],
  );
  // docker.logs with timestamps, an indented key (a YAML block), a PGP block with its checksum and armor header.
  const stamp = '2026-11-30T22:00:00.123456789Z ';
  for (const lines of [
    [...KEY_BODY.map((l) => stamp + l), `${stamp}-----END RSA PRIVATE KEY-----`],
    [...KEY_BODY.map((l) => `    ${l}`), '    -----END PRIVATE KEY-----'],
    ['Version: GnuPG v2', '', KEY_BODY[0], '=AbCd', '-----END PGP PRIVATE KEY BLOCK-----'],
  ]) {
    const events = logLines([['stderr', `${lines.join('\n')}\nafter\n`]]);
    const shown = events.map(([, line]) => line).join('\n');
    assert.ok(!shown.includes(KEY_BODY[0].slice(0, 20)), shown);
    assert.equal(events.at(-1)?.[1], 'after');
  }
});

test('opening lines shaped like a key body pass on unchanged, in order, when no END follows; later ones are never held', () => {
  const hex = 'a3f5'.repeat(16);
  assert.deepEqual(
    logLines([
      ['stdout', `${hex}\nready\n`],
      ['stderr', 'not a key\n'],
      ['stdout', `${hex}\n-----END RSA PRIVATE KEY-----\n`],
    ]),
    [
      ['stdout', hex],
      ['stdout', 'ready'],
      ['stderr', 'not a key'],
      ['stdout', hex],
      ['stdout', '-----END RSA PRIVATE KEY-----'],
    ],
  );
  // A body-shaped opening held until the log ends comes out then.
  const ended: unknown[] = [];
  const held = cappedLogEvents(
    1 << 20,
    (_type, data) => ended.push(data.line),
    (line) => line,
  );
  held.line('stderr', KEY_BODY[0]);
  assert.deepEqual(ended, []);
  held.flush();
  assert.deepEqual(ended, [KEY_BODY[0]]);
});

test('what the opening of a log holds goes on, unchanged, after CUT_KEY_HOLD_MS at most', async () => {
  const passed: string[] = [];
  const hold = new CutKeyHold(({ line }) => passed.push(line), 30);
  hold.push('stdout', 'ready');
  hold.push('stdout', KEY_BODY[0]);
  assert.deepEqual(passed, []);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.deepEqual(passed, ['ready', KEY_BODY[0]]);
  hold.push('stdout', KEY_BODY[1]);
  assert.deepEqual(passed, ['ready', KEY_BODY[0], KEY_BODY[1]], 'only the opening is held');
  assert.ok(CUT_KEY_HOLD_MS <= 1000, 'a follow shows its first lines within a second');
});

test('a context line (a tail read one line more) is read for what it opens on its stream, and neither emitted nor counted against the cap', () => {
  const redactor = createRedactor();
  const events: [string, unknown][] = [];
  // 20 bytes: `  warn` and `  hunter2` (7 + 10, each with its newline) fit; counted, the context line would not.
  const logEvents = cappedLogEvents(
    20,
    (type, data) => events.push(type === 'log' ? [data.stream as string, data.line] : [type, data]),
    (line) => redactor.redact(line) as string,
  );
  logEvents.context('stdout', 'db password:');
  logEvents.line('stderr', '  warn');
  logEvents.line('stdout', '  hunter2');
  logEvents.line('stdout', 'ready');
  logEvents.flush();
  assert.deepEqual(events, [
    ['stderr', '  warn'],
    ['stdout', `  ${REDACTED}`],
    ['truncated', { max_bytes: 20, streamed_bytes: 17 }],
  ]);
});
