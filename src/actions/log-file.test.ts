import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogFile, createMemoryLog } from './log-file.ts';
import { tempDir } from './testing.ts';

const dir = tempDir();
after(() => dir.remove());

test('a log nobody writes to creates no file, and still reports its path', async () => {
  const path = join(dir.path, 'silent', 'task.log');
  const log = createLogFile(path);
  assert.equal(log.path, path);
  await log.close();
  assert.equal(existsSync(path), false);
  assert.equal(existsSync(join(dir.path, 'silent')), false);
  assert.equal(log.bytes, 0);
  assert.equal(log.truncated, false);
});

test('the first write creates the file (and its directory); writes append in order', async () => {
  const path = join(dir.path, 'runs', 'r1', 'logs', 'task.log');
  const log = createLogFile(path);
  log.write('stdout', 'out 1\n');
  log.write('stderr', Buffer.from('err 1\n'));
  log.write('stdout', new Uint8Array([0x6f, 0x6b, 0x0a]));
  await log.close();
  assert.equal(readFileSync(path, 'utf8'), 'out 1\nerr 1\nok\n');
  assert.equal(log.bytes, 15);

  const again = createLogFile(path);
  again.write('stdout', 'more\n');
  await again.close();
  assert.equal(readFileSync(path, 'utf8'), 'out 1\nerr 1\nok\nmore\n');
});

test('past maxBytes the log keeps the first bytes, appends one note and drops the rest', async () => {
  const path = join(dir.path, 'capped.log');
  const log = createLogFile(path, { maxBytes: 10 });
  log.write('stdout', '12345678');
  assert.equal(log.truncated, false);
  log.write('stdout', 'abcdef');
  log.write('stderr', 'dropped');
  log.write('stdout', 'dropped too');
  await log.close();
  assert.equal(log.truncated, true);
  assert.equal(log.bytes, 10);
  assert.equal(readFileSync(path, 'utf8'), '12345678ab\n[dvm: log truncated at 10 bytes]\n');
});

test('a chunk exactly at the cap is not truncated', async () => {
  const path = join(dir.path, 'exact.log');
  const log = createLogFile(path, { maxBytes: 4 });
  log.write('stdout', 'abcd');
  await log.close();
  assert.equal(log.truncated, false);
  assert.equal(readFileSync(path, 'utf8'), 'abcd');
});

test('close rejects when the file cannot be written (its directory is a file)', async () => {
  const file = join(dir.path, 'plain-file');
  writeFileSync(file, '');
  const log = createLogFile(join(file, 'task.log'));
  log.write('stdout', 'x');
  await assert.rejects(log.close(), /ENOTDIR|EEXIST/);
});

test('writes after close are ignored', async () => {
  const path = join(dir.path, 'closed.log');
  const log = createLogFile(path);
  log.write('stdout', 'a');
  await log.close();
  log.write('stdout', 'b');
  assert.equal(readFileSync(path, 'utf8'), 'a');
});

test('a child writing into the file directly is capped on release, and later writes count its bytes', async () => {
  const path = join(dir.path, 'child', 'direct.log');
  const log = createLogFile(path, { maxBytes: 8 });
  const child = log.attachChild?.();
  assert.ok(child, 'a log file takes a child descriptor');
  writeSync(child.fd, 'abc');
  child.release();
  assert.equal(log.bytes, 3);
  assert.equal(log.truncated, false);
  log.write('stdout', 'def');
  const again = log.attachChild?.();
  assert.ok(again);
  writeSync(again.fd, '0123456789');
  again.release();
  assert.equal(log.truncated, true);
  assert.equal(log.bytes, 8);
  log.write('stdout', 'dropped');
  await log.close();
  assert.equal(readFileSync(path, 'utf8'), 'abcdef01\n[dvm: log truncated at 8 bytes]\n');
});

test('a child that printed nothing into its log leaves no file', async () => {
  const path = join(dir.path, 'child', 'silent.log');
  const log = createLogFile(path);
  log.attachChild?.()?.release();
  await log.close();
  assert.equal(existsSync(path), false);
  assert.equal(log.bytes, 0);
});

test('a memory log caps the same way', () => {
  const log = createMemoryLog({ maxBytes: 5 });
  log.write('stdout', 'héllo');
  assert.equal(log.truncated, true);
  assert.equal(log.text(), 'héll\n[dvm: log truncated at 5 bytes]\n');
});
