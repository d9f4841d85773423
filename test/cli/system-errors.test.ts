import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DVM_BIN, dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

test('a DVM_HOME that is a file, or below one, is DVM_IO_ERROR naming the path, not an internal error', () => {
  const dir = tempHome();
  const file = join(dir, 'not-a-directory');
  writeFileSync(file, 'x');
  for (const home of [file, join(file, 'below')]) {
    const run = dvm(home, ['get', 'apps', '-A']);
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(`^error: DVM_IO_ERROR ${home}: cannot mkdir ${home}: E(EXIST|NOTDIR)\\n  fix: `),
    );
  }
});

test('a store that is not a database, or damaged, is DVM_STORE_CORRUPT with a fix; output to a full device is DVM_IO_ERROR', () => {
  const home = tempHome();
  dvmOk(home, ['create', 'ecosystem', 'lab']);
  const db = join(home, 'dvm.db');
  // Overwrite the middle of the file: the header still says SQLite, the pages do not.
  const fd = openSync(db, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096);
  closeSync(fd);
  const damaged = dvm(home, ['get', 'ecosystems']);
  assert.equal(damaged.status, 1);
  assert.match(damaged.stderr, /^error: DVM_STORE_CORRUPT[: ]/);
  assert.doesNotMatch(damaged.stderr, /DVM_INTERNAL/);
  const full = spawnSync(process.execPath, [DVM_BIN, 'version'], {
    env: { ...process.env, DVM_HOME: tempHome() },
    stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'],
    encoding: 'utf8',
  });
  assert.equal(full.status, 1);
  assert.match(full.stderr, /^error: DVM_IO_ERROR: cannot write the output: ENOSPC/);
  assert.doesNotMatch(full.stderr, /\n\s+at /);
});
