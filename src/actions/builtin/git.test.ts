import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DvmError } from '../../errors/dvm-error.ts';
import { createBuiltinRegistry } from '../registry.ts';
import { tempDir, testContext } from '../testing.ts';
import { gitPullAction, gitPushAction } from './git.ts';

const dir = tempDir('dvm-git-');
after(() => dir.remove());

// Hermetic git: no user or system configuration, no prompts.
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

const remote = join(dir.path, 'remote.git');
const first = join(dir.path, 'first');
const second = join(dir.path, 'second');
git(dir.path, 'init', '--bare', '-b', 'main', remote);
git(dir.path, 'clone', remote, first);
git(first, 'checkout', '-b', 'main');
writeFileSync(join(first, 'README.md'), '# demo\n');
git(first, 'add', '.');
git(first, 'commit', '-m', 'first');
git(first, 'push', 'origin', 'main');
git(dir.path, 'clone', remote, second);

test('git.push pushes the checked-out branch to origin; git.pull brings it into another clone', async () => {
  writeFileSync(join(first, 'feature.txt'), 'new feature\n');
  git(first, 'add', '.');
  git(first, 'commit', '-m', 'feature');
  const head = git(first, 'rev-parse', 'HEAD');

  const registry = createBuiltinRegistry();
  const pushContext = testContext({ workdir: first, env });
  const pushed = await gitPushAction.handler(registry.validateInput(gitPushAction, {}), pushContext);
  assert.deepEqual(pushed, { remote: 'origin', branch: 'main', commit: head });
  assert.equal(git(remote, 'rev-parse', 'main'), head);

  assert.equal(existsSync(join(second, 'feature.txt')), false);
  const pullContext = testContext({ workdir: dir.path, env });
  const pulled = await gitPullAction.handler(
    registry.validateInput(gitPullAction, { repo: 'second', branch: 'main' }),
    pullContext,
  );
  assert.deepEqual(pulled, { remote: 'origin', branch: 'main', commit: head });
  assert.equal(readFileSync(join(second, 'feature.txt'), 'utf8'), 'new feature\n');
  assert.match(pullContext.log.text(), /Fast-forward|feature\.txt/);
});

test('a failing push is DVM_GIT_FAILED with the stderr of git', async () => {
  const error = await gitPushAction
    .handler({ remote: 'nowhere', branch: 'main' }, testContext({ workdir: first, env }))
    .then(
      () => assert.fail('push succeeded'),
      (e: unknown) => e,
    );
  assert.ok(error instanceof DvmError);
  assert.equal(error.code, 'DVM_GIT_FAILED');
  assert.equal(error.details.origin, 'user');
  assert.match(error.message, /^git push nowhere main failed \(exit 128\): /);
  assert.match(String(error.details.stderr), /nowhere/);
  assert.match(error.fix ?? '', /remote name/);
});

test('a pull that cannot fast-forward fails instead of merging', async () => {
  writeFileSync(join(second, 'local.txt'), 'local\n');
  git(second, 'add', '.');
  git(second, 'commit', '-m', 'local');
  writeFileSync(join(first, 'remote.txt'), 'remote\n');
  git(first, 'add', '.');
  git(first, 'commit', '-m', 'remote');
  git(first, 'push', 'origin', 'main');
  const before = git(second, 'rev-parse', 'HEAD');
  await assert.rejects(
    gitPullAction.handler({ remote: 'origin' }, testContext({ workdir: second, env })),
    (e: unknown) => e instanceof DvmError && e.code === 'DVM_GIT_FAILED' && /fast-forward/i.test(e.message),
  );
  assert.equal(git(second, 'rev-parse', 'HEAD'), before);
});

test('a detached HEAD needs an explicit branch', async () => {
  const detached = join(dir.path, 'detached');
  git(dir.path, 'clone', remote, detached);
  git(detached, 'checkout', '--detach');
  await assert.rejects(
    gitPushAction.handler({ remote: 'origin' }, testContext({ workdir: detached, env })),
    (e: unknown) => e instanceof DvmError && e.code === 'DVM_GIT_FAILED' && /detached/.test(e.message),
  );
});

test('a directory that is not a repository is DVM_GIT_FAILED', async () => {
  const plain = join(dir.path, 'plain');
  git(dir.path, 'init', '-q', plain);
  execFileSync('rm', ['-rf', join(plain, '.git')]);
  await assert.rejects(
    gitPushAction.handler(
      { remote: 'origin', branch: 'main' },
      testContext({ workdir: plain, env: { ...env, GIT_CEILING_DIRECTORIES: dir.path } }),
    ),
    (e: unknown) =>
      e instanceof DvmError &&
      e.code === 'DVM_GIT_FAILED' &&
      /not a git repository/.test(e.message) &&
      /`repo:`/.test(e.fix ?? ''),
  );
});

test('a repo that does not exist is DVM_WORKDIR_NOT_FOUND about the `repo` param and what a relative one is relative to', async () => {
  for (const action of [gitPullAction, gitPushAction]) {
    // Relative: resolved against the context's workdir, which the fix names.
    await assert.rejects(
      action.handler({ repo: 'relative/missing' }, testContext({ workdir: dir.path, env })),
      (e: unknown) => {
        assert.ok(e instanceof DvmError);
        assert.equal(e.code, 'DVM_WORKDIR_NOT_FOUND');
        assert.equal(
          e.message,
          `repo relative/missing (${join(dir.path, 'relative/missing')}) does not exist`,
        );
        assert.match(e.fix ?? '', /`repo` param/);
        assert.ok(
          e.fix?.includes(`resolved against the working directory the action runs in, here ${dir.path}`),
        );
        assert.doesNotMatch(e.fix ?? '', /workdir:|YAML file|App path/);
        assert.deepEqual([e.details.param, e.details.origin], ['repo', 'user']);
        return true;
      },
    );
    await assert.rejects(
      action.handler({ repo: '/nonexistent/repo' }, testContext({ workdir: dir.path, env })),
      (e: unknown) =>
        e instanceof DvmError &&
        e.code === 'DVM_WORKDIR_NOT_FOUND' &&
        e.message === 'repo /nonexistent/repo does not exist' &&
        /`repo` param/.test(e.fix ?? ''),
    );
  }
  // Without repo, a missing directory is the context's own workdir (a Task's): its error is the task's.
  await assert.rejects(
    gitPushAction.handler({}, testContext({ workdir: join(dir.path, 'gone'), env })),
    (e: unknown) =>
      e instanceof DvmError && e.code === 'DVM_WORKDIR_NOT_FOUND' && /`workdir:`/.test(e.fix ?? ''),
  );
});
