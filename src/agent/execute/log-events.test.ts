import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRedactor, REDACTED } from '../redact.ts';
import { cappedLogEvents, lineSplitter } from './log-events.ts';

// The log events of chunks written as an execution's handler writes them (execute.ts: whole lines, per stream).
function logLines(chunks: ['stdout' | 'stderr', string][]): [string, unknown][] {
  const redactor = createRedactor();
  const events: [string, unknown][] = [];
  const logEvent = cappedLogEvents(
    1 << 20,
    (_type, data) => events.push([data.stream as string, data.line]),
    (line) => redactor.redact(line) as string,
  );
  const lines = lineSplitter(logEvent);
  for (const [stream, chunk] of chunks) lines.write(stream, chunk);
  lines.flush();
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
