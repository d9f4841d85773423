// dvm-spawn against Node's own spawn: the same command gives the same outcome, and the child starts in the same
// state (its own session, default signal handling, stdin from /dev/null, no inherited descriptors).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRunning, tempDir } from '../testing.ts';
import { NATIVE_SPAWNER, nativeSpawnerBuilt } from './native-helper.ts';
import { type RemoteSpawn, SpawnPool } from './spawn-pool.ts';

type Outcome = { error: string } | { code: number | null; signal: string | null; output: string };

function built(t: TestContext): boolean {
  if (nativeSpawnerBuilt()) return true;
  if (process.env.CI === 'true') throw new Error(`${NATIVE_SPAWNER} is missing: CI must build it`);
  t.skip(`${NATIVE_SPAWNER} is not built: run npm run build:native`);
  return false;
}

async function readyPool(t: TestContext, options: { nativeBinary?: string } = {}): Promise<SpawnPool> {
  const pool = new SpawnPool(1, { kind: 'native', ...options });
  t.after(() => pool.close());
  pool.warm();
  for (let i = 0; i < 200 && !pool.ready && pool.kind === 'native'; i++) await sleep(10);
  if (!options.nativeBinary)
    assert.equal(pool.kind, 'native', 'dvm-spawn answered with the current source hash');
  return pool;
}

function viaHelper(pool: SpawnPool, spec: RemoteSpawn): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = pool.spawn(spec);
    assert.ok(child, 'the helper is ready');
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ error: String(error.code) }));
    child.once('exit', (code: number | null, signal: string | null) =>
      resolve({ code, signal, output: readFileSync(spec.logPath, 'utf8') }),
    );
  });
}

// A stand-in for dvm-spawn in `dir`: a shell script of `body`, executable; answers its path.
function standIn(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

// Runs `echo fine` through `pool`'s helper in `dir` and asserts it did.
async function echoesFine(pool: SpawnPool, dir: string): Promise<void> {
  const outcome = await viaHelper(pool, {
    argv: ['sh', '-c', 'echo fine'],
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
    logPath: join(dir, 'x.log'),
  });
  assert.deepEqual(outcome, { code: 0, signal: null, output: 'fine\n' });
}

function viaNode(spec: RemoteSpawn): Promise<Outcome> {
  return new Promise((resolve) => {
    const fd = openSync(spec.logPath, 'a');
    const child = spawn(spec.argv[0], spec.argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ error: String(error.code) }));
    child.once('exit', (code, signal) =>
      resolve({ code, signal, output: readFileSync(spec.logPath, 'utf8') }),
    );
  });
}

test('dvm-spawn finds, starts and reports commands exactly as Node spawn does', async (t) => {
  if (!built(t)) return;
  const pool = await readyPool(t);
  const dir = tempDir();
  t.after(dir.remove);
  const bin = join(dir.path, 'bin');
  const work = join(dir.path, 'work');
  mkdirSync(bin);
  mkdirSync(work);
  mkdirSync(join(bin, 'a-directory'));
  writeFileSync(join(bin, 'greet'), '#!/bin/sh\necho "hi $1 from $(pwd)"\n', { mode: 0o755 });
  writeFileSync(join(bin, 'no-shebang'), 'echo "plain $1 from $0"\n', { mode: 0o755 });
  writeFileSync(join(bin, 'not-executable'), '#!/bin/sh\necho never\n', { mode: 0o644 });
  writeFileSync(join(work, 'local.sh'), '#!/bin/sh\necho local "$@"; exit 3\n', { mode: 0o755 });
  const path = `${bin}:/usr/bin:/bin`;
  const cases: [string, string[], Record<string, string>][] = [
    ['a program on the command’s own PATH', ['greet', 'there'], { PATH: path }],
    ['a program not on that PATH', ['greet'], { PATH: '/usr/bin:/bin' }],
    ['a relative path, from the working directory', ['./local.sh', 'x', 'y z'], { PATH: path }],
    ['an absolute path that does not exist', [join(bin, 'missing')], { PATH: path }],
    ['an executable without #! (a script for /bin/sh)', ['no-shebang', 'arg'], { PATH: path }],
    ['a file that is not executable', ['not-executable'], { PATH: path }],
    ['a directory named like the program', ['a-directory'], { PATH: path }],
    ['a signal', ['sh', '-c', 'kill -TERM $$'], { PATH: path }],
    ['an exit code and both streams', ['sh', '-c', 'echo out; echo err >&2; exit 42'], { PATH: path }],
    ['no PATH at all', ['sh', '-c', 'echo "[$PATH]"'], {}],
    ['multi-byte text', ['printf', '%s', 'héllo ✓'], { PATH: path, LANG: 'C.UTF-8' }],
  ];
  for (const [at, [name, argv, env]] of cases.entries()) {
    const spec = (via: string) => ({ argv, cwd: work, env, logPath: join(dir.path, `${at}.${via}.log`) });
    const [native, node] = [await viaHelper(pool, spec('native')), await viaNode(spec('node'))];
    assert.deepEqual(native, node, name);
  }
});

test('a command dvm-spawn starts leads its own session, with default signals, /dev/null as stdin, no extra descriptors', async (t) => {
  if (!built(t)) return;
  const pool = await readyPool(t);
  const dir = tempDir();
  t.after(dir.remove);
  // Each command reads its own /proc entry: a shell reading its parent's could catch it mid-fork, signals blocked.
  const run = async (argv: string[], name: string) => {
    const outcome = await viaHelper(pool, {
      argv,
      cwd: dir.path,
      env: { PATH: '/usr/bin:/bin' },
      logPath: join(dir.path, name),
    });
    assert.ok('output' in outcome && outcome.code === 0, JSON.stringify(outcome));
    return outcome.output;
  };
  const [pid, sid] = (await run(['sh', '-c', 'echo $$ $(cut -d" " -f6 /proc/$$/stat)'], 'sid.log'))
    .trim()
    .split(' ');
  assert.equal(sid, pid, 'its own session');
  const status = await run(['grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status'], 'status.log');
  const masks = Object.fromEntries(
    status
      .trim()
      .split('\n')
      .map((line) => line.split(':\t')),
  );
  assert.equal(masks.SigBlk, '0000000000000000', 'no signal blocked');
  // No standard signal ignored (Node ignores SIGPIPE; the child must not). glibc's posix_spawn leaves its own two
  // internal real-time signals (32, 33) ignored, as in every program that make or Rust's Command starts.
  assert.equal(BigInt(`0x${masks.SigIgn}`) & 0x7fffffffn, 0n, `SigIgn ${masks.SigIgn}`);
  assert.equal(await run(['readlink', '/proc/self/fd/0'], 'stdin.log'), '/dev/null\n');
  // Only 0, 1 and 2 are open (ls's own directory descriptor is 3), even if dvm's process holds one that is not
  // close-on-exec (which Node's own spawn would pass on).
  const fds = { argv: ['ls', '/proc/self/fd'], cwd: dir.path, env: { PATH: '/usr/bin:/bin' } };
  const nativeFds = await viaHelper(pool, { ...fds, logPath: join(dir.path, 'native-fds.log') });
  assert.deepEqual(nativeFds, { code: 0, signal: null, output: '0\n1\n2\n3\n' });
});

test('a large environment and many commands at once all arrive whole', async (t) => {
  if (!built(t)) return;
  const pool = await readyPool(t);
  const dir = tempDir();
  t.after(dir.remove);
  const env: Record<string, string> = { PATH: '/usr/bin:/bin' };
  for (let i = 0; i < 2000; i++) env[`VAR_${i}`] = `value ${i} ${'x'.repeat(100)}`;
  const runs = Array.from({ length: 40 }, (_, i) =>
    viaHelper(pool, {
      argv: ['sh', '-c', 'echo "$VAR_1999" "$1"', 'sh', `arg ${i}`],
      cwd: dir.path,
      env: i % 2 ? env : { ...env, ONE_OFF: String(i) },
      logPath: join(dir.path, `${i}.log`),
    }),
  );
  const outcomes = await Promise.all(runs);
  outcomes.forEach((outcome, i) => {
    assert.deepEqual(outcome, { code: 0, signal: null, output: `value 1999 ${'x'.repeat(100)} arg ${i}\n` });
  });
});

test('an out-of-date dvm-spawn is not used: the pool falls back to Node helpers', async (t) => {
  const dir = tempDir();
  t.after(dir.remove);
  // The right protocol, built from other source.
  const stale = standIn(dir.path, 'dvm-spawn', 'echo "R 1 0123456789abcdef"\nexec cat >/dev/null');
  const pool = await readyPool(t, { nativeBinary: stale });
  for (let i = 0; i < 200 && !pool.ready; i++) await sleep(10);
  assert.equal(pool.kind, 'node');
  assert.ok(pool.ready, 'a Node helper took over');
  await echoesFine(pool, dir.path);
});

test('dvm-spawn stops, with a message, on a frame it cannot read', async (t) => {
  if (!built(t)) return;
  for (const bad of [
    Buffer.from([5, 0, 0, 0, ...Buffer.from('X\x001\x00\x00')]), // an unknown kind
    Buffer.from([3, 0, 0, 0, ...Buffer.from('S\x00\x00')]), // no id
    Buffer.from([255, 255, 255, 127]), // larger than any frame may be
  ]) {
    const child = spawn(NATIVE_SPAWNER, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin.end(bad);
    // 'close', not 'exit': stderr is read to its end first.
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(code, 65, stderr);
    assert.match(stderr, /^dvm-spawn: a (malformed message|message of \d+ bytes is too large)\n$/);
  }
});

test('dvm-spawn refuses a program path longer than PATH_MAX instead of running a prefix of it', async (t) => {
  if (!built(t)) return;
  const pool = await readyPool(t);
  const dir = tempDir();
  t.after(dir.remove);
  // Cut at PATH_MAX - 1 bytes, this path reads /bin/////…/true: Node's spawn says ENAMETOOLONG.
  const program = `/bin/${'/'.repeat(4095 - '/bin/'.length - 'true'.length)}true-not-there`;
  const outcome = await viaHelper(pool, {
    argv: [program],
    cwd: dir.path,
    env: { PATH: '/usr/bin:/bin' },
    logPath: join(dir.path, 'x.log'),
  });
  assert.throws(() => spawn(program, [], { stdio: 'ignore' }), { code: 'ENAMETOOLONG' });
  assert.deepEqual(outcome, { error: 'ENAMETOOLONG' });
});

test('a command that started just before dvm-spawn died gets its pid, so that its caller stops it', async (t) => {
  const dir = tempDir();
  t.after(dir.remove);
  const source = readFileSync(new URL('./native/dvm-spawn.c', import.meta.url));
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  // A stand-in for dvm-spawn: it starts the first command (as pid 999999) and is killed before that pid is due.
  const fake = standIn(
    dir.path,
    'dvm-spawn',
    `echo "R 2 ${hash}"\nhead -c 1 >/dev/null\necho "Q 1 999999"\nkill -KILL $$`,
  );
  const pool = await readyPool(t, { nativeBinary: fake });
  assert.equal(pool.kind, 'native');
  const child = pool.spawn({
    argv: ['sleep', '30'],
    cwd: dir.path,
    env: {},
    logPath: join(dir.path, 'x.log'),
  });
  assert.ok(child);
  const events: unknown[] = [];
  child.on('spawn', (pid: number) => events.push(['spawn', pid]));
  await new Promise<void>((resolve) =>
    child.once('error', (error: NodeJS.ErrnoException) => {
      events.push(['error', error.code]);
      resolve();
    }),
  );
  assert.deepEqual(events, [
    ['spawn', 999999],
    ['error', 'EHELPER'],
  ]);
});

test('dvm-spawn finds a program relative to a working directory given as a relative path, as Node spawn does', async (t) => {
  if (!built(t)) return;
  const pool = await readyPool(t);
  const dir = tempDir();
  t.after(dir.remove);
  mkdirSync(join(dir.path, 'work'));
  writeFileSync(join(dir.path, 'work', 'local.sh'), '#!/bin/sh\necho local\n', { mode: 0o755 });
  const cwd = relative(process.cwd(), join(dir.path, 'work'));
  for (const [argv, PATH] of [
    [['./local.sh'], '/usr/bin:/bin'],
    [['local.sh'], ':/usr/bin:/bin'],
  ] as const) {
    const spec = (via: string) => ({
      argv,
      cwd,
      env: { PATH },
      logPath: join(dir.path, `${argv[0]}.${via}.log`),
    });
    assert.deepEqual(await viaHelper(pool, spec('native')), await viaNode(spec('node')), argv[0]);
  }
});

test('dvm-spawn says EACCES, as execvp does, for a program in a PATH directory it may not search', async (t) => {
  if (!built(t)) return;
  const dir = tempDir();
  t.after(dir.remove);
  const locked = join(dir.path, 'locked');
  mkdirSync(locked);
  writeFileSync(join(locked, 'prog'), '#!/bin/sh\necho never\n', { mode: 0o755 });
  chmodSync(locked, 0o700);
  // Root searches any directory: as root, dvm-spawn runs as nobody (who may not search the temporary directory).
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) chmodSync(locked, 0o000);
  const [command, args] = asRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', NATIVE_SPAWNER]]
    : [NATIVE_SPAWNER, []];
  const body = Buffer.from(
    ['S', '1', '0', '/', '/dev/null', '1', 'prog', '1', `PATH=${locked}:/usr/bin:/bin`, ''].join('\0'),
  );
  const header = Buffer.alloc(4);
  header.writeUInt32LE(body.length);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const spawned = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!spawned) return t.skip('setpriv is not there');
  child.stdin.end(Buffer.concat([header, body]));
  await new Promise((resolve) => child.once('close', resolve));
  chmodSync(locked, 0o700); // for dir.remove
  assert.match(out, /^D 1 EACCES prog /m);
});

test('a command too large for dvm-spawn fails alone with E2BIG (as execve would) and its helper keeps running', async (t) => {
  if (!built(t)) return;
  const pool = await readyPool(t);
  const dir = tempDir();
  t.after(dir.remove);
  const spec = (argv: string[], name: string) => ({
    argv,
    cwd: dir.path,
    env: { PATH: '/usr/bin:/bin' },
    logPath: join(dir.path, name),
  });
  const running = pool.spawn(spec(['sleep', '30'], 'running.log'));
  assert.ok(running);
  const helperGone = new Promise<string>((resolve) => running.once('error', (e) => resolve(e.code)));
  const tooMany = await viaHelper(pool, spec(['true', ...Array(1_000_000).fill('')], 'many.log'));
  const tooLarge = await viaHelper(pool, spec(['true', 'x'.repeat(64 * 1024 * 1024)], 'large.log'));
  assert.deepEqual([tooMany, tooLarge], [{ error: 'E2BIG' }, { error: 'E2BIG' }]);
  const ends = await Promise.race([helperGone, sleep(100).then(() => 'still running')]);
  assert.equal(ends, 'still running');
  assert.ok(running.pid);
  process.kill(-running.pid, 'SIGKILL');
});

test('a helper slower to start than the idle time is not stopped before it is ready: the idle time counts from then', async (t) => {
  if (!built(t)) return;
  const dir = tempDir();
  t.after(dir.remove);
  // dvm-spawn itself, after 800 ms (a loaded machine).
  const slow = standIn(dir.path, 'slow-dvm-spawn', `sleep 0.8\nexec ${NATIVE_SPAWNER}`);
  const pool = new SpawnPool(1, { kind: 'native', nativeBinary: slow, idleStopMs: 300 });
  t.after(() => pool.close());
  pool.warm();
  for (let i = 0; i < 300 && !pool.ready; i++) await sleep(10);
  assert.ok(pool.ready, 'the helper became ready (it was stopped while starting)');
  assert.equal(pool.kind, 'native');
  await echoesFine(pool, dir.path);
  // Then idle: stopped after the idle time.
  for (let i = 0; i < 100 && pool.size > 0; i++) await sleep(10);
  assert.equal(pool.size, 0, 'stopped once idle');
});

// A native pool whose helper never says it is ready (and never dies: a hung start), idle after 100 ms, its start
// limit 300 ms; started, with a command to give it and the hung helper's pid.
function hungPool(t: TestContext) {
  const dir = tempDir();
  t.after(dir.remove);
  const hung = standIn(dir.path, 'hung-dvm-spawn', 'exec sleep 60');
  const pool = new SpawnPool(1, { kind: 'native', nativeBinary: hung, idleStopMs: 100, startLimitMs: 300 });
  t.after(() => pool.close());
  pool.warm();
  const spec = { argv: ['true'], cwd: dir.path, env: {}, logPath: join(dir.path, 'x.log') };
  return { pool, spec, pid: pool.helperPids[0] };
}

test('a helper that never becomes ready is stopped once idle past its start limit, commands meanwhile or not, and Node helpers take over', async (t) => {
  if (!built(t)) return;
  const { pool, spec, pid } = hungPool(t);
  // A command while it starts (run directly by its caller) does not keep it alive.
  await sleep(50);
  assert.equal(pool.spawn(spec), undefined);
  for (let i = 0; i < 200 && pool.size > 0; i++) await sleep(10);
  assert.equal(pool.size, 0, 'the hung helper was stopped');
  for (let i = 0; i < 100 && processRunning(pid); i++) await sleep(10);
  assert.ok(!processRunning(pid), 'and its process is gone');
  assert.equal(pool.kind, 'node', 'Node helpers from now on');
  assert.equal(pool.spawn(spec), undefined);
  for (let i = 0; i < 300 && !pool.ready; i++) await sleep(10);
  assert.ok(pool.ready, 'a Node helper took over');
});

test('a hung native helper is replaced by Node helpers while commands keep coming (each would put its idle stop off)', async (t) => {
  if (!built(t)) return;
  const { pool, spec, pid } = hungPool(t);
  // A command every 50 ms: the idle time never passes.
  for (let i = 0; i < 40 && pool.kind === 'native'; i++) {
    pool.spawn(spec);
    await sleep(50);
  }
  assert.equal(pool.kind, 'node', 'Node helpers took over');
  for (let i = 0; i < 100 && processRunning(pid); i++) await sleep(10);
  assert.ok(!processRunning(pid), 'the hung helper is gone');
});
