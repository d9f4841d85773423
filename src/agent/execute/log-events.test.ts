import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRedactor, REDACTED } from '../redact.ts';
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

test('a stream that opens inside a private key (its BEGIN line cut off by a tail) has the key body held and redacted', () => {
  const events = logLines([
    ['stdout', `${KEY_BODY.join('\n')}\n`],
    ['stderr', 'other stream\n'],
    ['stdout', '-----END RSA PRIVATE KEY-----\nkey loaded\n'],
  ]);
  assert.deepEqual(events, [
    ['stderr', 'other stream'],
    ['stdout', REDACTED],
    ['stdout', REDACTED],
    ['stdout', REDACTED],
    ['stdout', 'key loaded'],
  ]);
});

test('opening lines shaped like a key body pass on unchanged, in order, when no END follows; later ones are never held', () => {
  const hex = 'a3f5'.repeat(16);
  assert.deepEqual(
    logLines([['stdout', `${hex}\nshort\nnot a key\n${hex}\n-----END RSA PRIVATE KEY-----\n`]]),
    [
      ['stdout', hex],
      ['stdout', 'short'],
      ['stdout', 'not a key'],
      ['stdout', hex],
      ['stdout', REDACTED],
    ],
  );
  // Short words opening a log are never held: each is an event at once.
  const events: unknown[] = [];
  const logEvents = cappedLogEvents(
    1 << 20,
    (_type, data) => events.push(data.line),
    (line) => line,
  );
  logEvents.line('stdout', 'ready');
  assert.deepEqual(events, ['ready']);
  logEvents.line('stdout', hex);
  assert.deepEqual(events, ['ready', hex], 'only the lines that open a stream are held');
  // A body-shaped opening held until the stream ends comes out then.
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
