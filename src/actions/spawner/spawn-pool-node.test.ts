// The pool's contract with Node helpers (spawn-helper.mjs), the fallback where dvm-spawn could not be built.
process.env.DVM_SPAWNER = 'node';
process.env.DVM_SPAWN_HELPERS = 'always';
const { spawnPoolTests } = await import('./spawn-pool-suite.ts');
spawnPoolTests('node');
