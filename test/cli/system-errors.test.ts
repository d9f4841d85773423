import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
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
  // Where a directory exists but takes no new entries (/proc), Node's recursive mkdir looped for ever.
  const proc = dvm('/proc/dvm-nope/home', ['token', 'list'], { timeoutMs: 10_000 });
  assert.equal(proc.status, 1, proc.stderr);
  assert.match(
    proc.stderr,
    /^error: DVM_IO_ERROR \/proc\/dvm-nope: cannot mkdir \/proc\/dvm-nope: E(NOENT|ACCES)/,
  );
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
  // A database that cannot be opened for what is around it (here a directory where its -wal file goes) is not
  // damaged: DVM_IO_ERROR about access, never the advice to move a healthy file aside.
  const blocked = tempHome();
  dvmOk(blocked, ['token', 'create', '--name', 'a', '--role', 'viewer']);
  mkdirSync(join(blocked, 'agent.db-wal'), { recursive: true });
  const unopenable = dvm(blocked, ['token', 'list']);
  assert.equal(unopenable.status, 1, unopenable.stderr);
  assert.match(unopenable.stderr, /^error: DVM_IO_ERROR /);
  assert.match(unopenable.stderr, /readable and writable for this user/);
  assert.doesNotMatch(unopenable.stderr, /Move the file aside/);
  const full = spawnSync(process.execPath, [DVM_BIN, 'version'], {
    env: { ...process.env, DVM_HOME: tempHome() },
    stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'],
    encoding: 'utf8',
  });
  assert.equal(full.status, 1);
  assert.match(full.stderr, /^error: DVM_IO_ERROR: cannot write the output: ENOSPC/);
  assert.doesNotMatch(full.stderr, /\n\s+at /);
});

test('-f refuses an empty path, a FIFO and a device, and stops reading stdin at 64 MiB; delete refuses names with -f', () => {
  const home = tempHome();
  const fifo = join(home, 'pipe.yaml');
  spawnSync('mkfifo', [fifo]);
  for (const [arg, pattern] of [
    ['', /^error: DVM_USAGE: -f got an empty path/],
    [fifo, /DVM_USAGE .*pipe\.yaml: .* is not a regular file or directory/],
    ['/dev/zero', /DVM_USAGE .*\/dev\/zero: \/dev\/zero is not a regular file or directory/],
  ] as const) {
    const run = dvm(home, ['apply', '-f', arg]);
    assert.equal(run.status, 2, `${arg}: ${run.stderr}`);
    assert.match(run.stderr, pattern);
  }
  const endless = spawnSync(process.execPath, [DVM_BIN, 'apply', '-f', '-'], {
    env: { ...process.env, DVM_HOME: home },
    stdio: [openSync('/dev/zero', 'r'), 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(endless.status, 1, endless.stderr);
  assert.match(
    endless.stderr,
    /^error: DVM_INPUT_TOO_LARGE <stdin>: stdin is larger than the 64 MiB dvm reads/,
  );
  const mixed = dvm(home, ['delete', 'app', 'web', '-f', fifo]);
  assert.equal(mixed.status, 2);
  assert.match(mixed.stderr, /DVM_USAGE: delete takes either -f or KIND NAME, not both/);
});

test('dvm help VERB prints that command usage; an unknown topic is a usage error', () => {
  const home = tempHome();
  assert.equal(dvmOk(home, ['help', 'apply']).stdout, dvmOk(home, ['apply', '--help']).stdout);
  const unknown = dvm(home, ['help', 'nonsense']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /DVM_USAGE: unknown command "nonsense"/);
});

test('dvm serve on a port another process holds is DVM_PORT_IN_USE', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  try {
    const port = (holder.address() as AddressInfo).port;
    const run = dvm(tempHome(), ['serve', '--listen', `127.0.0.1:${port}`]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(`^error: DVM_PORT_IN_USE: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`),
    );
  } finally {
    holder.close();
  }
});

test('-o with an unknown format and audit --target without KEY=VALUE are usage errors', () => {
  const home = tempHome();
  for (const args of [
    ['version', '-o', 'bogus'],
    ['apply', '-f', '-', '-o', 'yml'],
    ['audit', '--target', 'novalue'],
    ['create', 'app', 'web', '--path', ''],
  ]) {
    const run = dvm(home, args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(
      run.stderr,
      /^error: DVM_USAGE: (unknown output format|--target "novalue" is not KEY=VALUE|--path got an empty path)/,
    );
  }
});
