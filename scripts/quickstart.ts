// The main job (`npm start`): the whole seed-000 flow on the example platform, in a fresh DVM_HOME under the
// repo: apply it, start its dependencies (process runtime by default), seed the data lake, run the CI pipeline
// (lint, test and build of both apps in parallel, with the live view on a terminal), deploy the apps in live
// mode, run the integration tests against them, show their status, and `dvm down` at the end.
// `npm start -- --keep` leaves the dependencies and apps running. Without PostgreSQL and Redis binaries (and
// without DVM_RUNTIME=docker) the live part is skipped with a message saying what to install.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../src/runtime/process/process-runtime.ts';
import { expandBinPaths } from '../src/service/deps/service-spec.ts';

const root = new URL('../', import.meta.url).pathname;
const home = join(root, '.dvm-quickstart');
const bin = join(root, 'bin', 'dvm.js');
const keep = process.argv.includes('--keep');
const SCOPE = ['-e', 'quickstart'];

function dvm(args: string[], options: { mayFail?: boolean } = {}): number {
  process.stdout.write(`\n$ dvm ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, DVM_HOME: home },
    stdio: 'inherit',
  });
  const status = result.status ?? 1;
  if (status !== 0 && !options.mayFail) throw Object.assign(new Error(`dvm ${args[0]} failed`), { status });
  return status;
}

function liveModeMissing(): string | undefined {
  if ((process.env.DVM_RUNTIME ?? 'process') !== 'process') return undefined;
  const postgres =
    expandBinPaths(['/usr/lib/postgresql/*/bin', '/usr/pgsql-*/bin', '/opt/homebrew/opt/postgresql@*/bin'])
      .map((dir) => join(dir, 'postgres'))
      .some((path) => !!findExecutable(path)) || !!findExecutable('postgres');
  const missing = [...(postgres ? [] : ['PostgreSQL']), ...(findExecutable('redis-server') ? [] : ['Redis'])];
  return missing.length ? missing.join(' and ') : undefined;
}

// A previous run that was interrupted may have left its services running: stop them before starting afresh.
if (existsSync(home)) dvm(['down', '-A'], { mayFail: true });
rmSync(home, { recursive: true, force: true });
process.stdout.write(`DVM_HOME=${home} (fresh)\n`);

let exitCode = 0;
const missing = liveModeMissing();
try {
  dvm(['apply', '-f', 'examples/quickstart']);
  dvm(['tree']);
  dvm(['get', 'apps', '-A']);
  if (missing) {
    process.stdout.write(
      `\n${missing} not installed: skipping dependencies, test data and live mode (on Debian: apt-get install postgresql redis-server; or set DVM_RUNTIME=docker).\n`,
    );
  } else {
    dvm(['start', 'dependencies', ...SCOPE]);
    dvm(['seed', 'datalake', 'shop-data', ...SCOPE]);
  }
  dvm(['get', 'pipelines', '-A', '-o', 'wide']);
  dvm(['run', 'pipeline', 'ci-pipeline', '-d', 'shop']);
  if (!missing) {
    dvm(['deploy', 'app', 'catalog-api', ...SCOPE, '-d', 'shop']);
    dvm(['deploy', 'app', 'orders-api', ...SCOPE, '-d', 'shop']);
    dvm(['run', 'task', 'integration-tests', ...SCOPE, '-d', 'shop']);
    dvm(['get', 'dependencies', ...SCOPE]);
    dvm(['status', 'app', 'orders-api', ...SCOPE, '-d', 'shop']);
  }
  dvm(['get', 'runs']);
} catch (error) {
  exitCode = (error as { status?: number }).status ?? 1;
} finally {
  if (!missing) {
    if (keep)
      process.stdout.write(
        '\n--keep: the dependencies and apps keep running; stop them with `dvm down -e quickstart`.\n',
      );
    else if (dvm(['down', ...SCOPE], { mayFail: true }) !== 0) exitCode ||= 1;
  }
}
process.exit(exitCode);
