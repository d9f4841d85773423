import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withInstanceLock } from './instance-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'dvm-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('holders of one lock never overlap, and the lock file is never seen without its holder', async () => {
  const path = join(dir, 'a.lock');
  let inside = 0;
  let most = 0;
  const seen: string[] = [];
  const watcher = setInterval(() => {
    if (existsSync(path)) seen.push(readFileSync(path, 'utf8'));
  }, 1);
  await Promise.all(
    Array.from({ length: 5 }, () =>
      withInstanceLock(path, 'test', async () => {
        inside++;
        most = Math.max(most, inside);
        await sleep(20);
        inside--;
      }),
    ),
  );
  clearInterval(watcher);
  assert.equal(most, 1);
  assert.ok(seen.length > 0, 'the watcher saw the lock');
  assert.ok(
    seen.every((holder) => holder.startsWith(`${process.pid} `)),
    `every read shows the holder: ${JSON.stringify(seen.filter((h) => !h.startsWith(`${process.pid} `)))}`,
  );
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('a.lock')),
    [],
    'no lock or scratch file is left',
  );
});

test('a lock left by a process that is gone is taken over, and its scratch file removed', async () => {
  const path = join(dir, 'b.lock');
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
  writeFileSync(path, `${dead} 12345`);
  writeFileSync(`${path}.${dead}-0123456789ab`, `${dead} 12345`);
  const ran = await withInstanceLock(path, 'test', async () => readFileSync(path, 'utf8'), 2_000);
  assert.ok(ran.startsWith(`${process.pid} `));
  assert.equal(existsSync(path), false);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('b.lock')),
    [],
  );
});

test('a live holder in another process is waited for, then the lock is taken', async () => {
  const path = join(dir, 'c.lock');
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { withInstanceLock } = await import(${JSON.stringify(new URL('./instance-lock.ts', import.meta.url).href)});
       await withInstanceLock(${JSON.stringify(path)}, 'holder', async () => { console.log('held'); await new Promise((r) => setTimeout(r, 400)); });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // Listened for at once: the holder may exit before this test is done waiting for the lock.
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  const started = performance.now();
  await withInstanceLock(path, 'test', async () => {
    assert.ok(performance.now() - started >= 200, 'it waited for the other process');
  });
  assert.equal(await exited, 0);
});

test('processes racing for one lock at the same instant take turns', async () => {
  const journal = join(dir, 'd.journal');
  const racer = (
    path: string,
    at: number,
  ) => `const { withInstanceLock } = await import(${JSON.stringify(new URL('./instance-lock.ts', import.meta.url).href)});
    const { appendFileSync } = await import('node:fs');
    while (Date.now() < ${at}) {}
    await withInstanceLock(${JSON.stringify(path)}, 'racer', async () => {
      appendFileSync(${JSON.stringify(journal)}, 'in\\n');
      await new Promise((r) => setTimeout(r, 5));
      appendFileSync(${JSON.stringify(journal)}, 'out\\n');
    });`;
  for (let round = 0; round < 5; round++) {
    writeFileSync(journal, '');
    const path = join(dir, `d${round}.lock`);
    const at = Date.now() + 400;
    const racers = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', racer(path, at)], {
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    const codes = await Promise.all(racers.map((r) => new Promise((resolve) => r.once('exit', resolve))));
    assert.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    assert.equal(lines.length, 12);
    for (const [i, line] of lines.entries()) {
      assert.equal(line, i % 2 === 0 ? 'in' : 'out', `round ${round}, line ${i + 1}: two holders at once`);
    }
  }
});
