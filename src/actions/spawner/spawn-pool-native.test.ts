// The pool's contract with the native helper (dvm-spawn, built by `npm install` where a C compiler is).
import { test } from 'node:test';
import { nativeSpawnerBuilt } from './native-helper.ts';

process.env.DVM_SPAWNER = 'native';
process.env.DVM_SPAWN_HELPERS = 'always';
if (nativeSpawnerBuilt()) {
  const { spawnPoolTests } = await import('./spawn-pool-suite.ts');
  spawnPoolTests('native');
} else if (process.env.CI === 'true') {
  test('the native spawner is built', () => {
    throw new Error(
      'build/native/dvm-spawn is missing: CI must build it (npm install runs npm run build:native)',
    );
  });
} else {
  test('native spawner tests', (t) =>
    t.skip('build/native/dvm-spawn is not built: run npm run build:native'));
}
