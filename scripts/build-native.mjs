// Builds dvm-spawn, the native command starter (src/actions/spawner/native/dvm-spawn.c), into build/native/.
// Runs at `npm install` (postinstall) and as `npm run build:native`. Without a C compiler it says so and exits 0:
// dvm then starts commands through small Node helpers, which is slower for bursts of quick tasks, not different.
// Plain JavaScript, so that it runs on whatever Node npm finds first.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/actions/spawner/native/dvm-spawn.c');
const target = join(root, 'build/native/dvm-spawn');
const strict = process.argv.includes('--strict');

function compilers() {
  return [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
}

function build() {
  if (process.platform === 'win32') return 'Windows has no posix_spawn';
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  // The binary tells which source it was built from, so dvm never uses one built from other source.
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const failures = [];
  for (const compiler of compilers()) {
    try {
      execFileSync(
        compiler,
        ['-O2', '-std=gnu11', '-Wall', '-Wextra', `-DDVM_SPAWN_SOURCE="${hash}"`, '-o', temporary, source],
        {
          stdio: ['ignore', 'inherit', 'pipe'],
        },
      );
      renameSync(temporary, target);
      return undefined;
    } catch (error) {
      rmSync(temporary, { force: true });
      const detail = error.code === 'ENOENT' ? 'not found' : String(error.stderr ?? error.message).trim();
      failures.push(`${compiler}: ${detail}`);
    }
  }
  return failures.join('\n');
}

const failed = build();
if (failed === undefined) {
  console.log(`dvm: built ${target}`);
} else {
  rmSync(target, { force: true });
  console.warn(
    `dvm: could not build the native command starter; bursts of quick tasks start through Node helpers instead (slower).\n${failed}\nInstall a C compiler (apt-get install gcc) and run: npm run build:native`,
  );
  if (strict) process.exit(1);
}
