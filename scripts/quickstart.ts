// The main job (`npm start`): apply the example platform to a fresh DVM_HOME under the repo, show it, and run
// its CI pipeline (lint, test and build of both example apps, in parallel, with the live view on a terminal).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const home = join(root, '.dvm-quickstart');
const bin = join(root, 'bin', 'dvm.js');

function dvm(...args: string[]): void {
  process.stdout.write(`\n$ dvm ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, DVM_HOME: home },
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

rmSync(home, { recursive: true, force: true });
process.stdout.write(`DVM_HOME=${home} (fresh)\n`);
dvm('apply', '-f', 'examples/quickstart');
dvm('tree');
dvm('get', 'apps', '-A');
dvm('get', 'pipelines', '-A', '-o', 'wide');
dvm('run', 'pipeline', 'ci-pipeline', '-d', 'shop');
dvm('get', 'runs');
