import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = new URL('../src/', import.meta.url).pathname;

// Dependencies point down and inward only (ARCHITECTURE.md): model imports nothing of ours outside itself
// (bar errors), the store knows no service or CLI, services know no CLI.
const FORBIDDEN: Record<string, string[]> = {
  errors: ['model', 'store', 'service', 'cli', 'engine', 'actions', 'agent'],
  model: ['store', 'service', 'cli', 'engine', 'actions', 'agent'],
  store: ['service', 'cli', 'engine', 'actions', 'agent'],
  actions: ['service', 'cli', 'engine', 'store', 'agent'],
  engine: ['service', 'cli', 'agent'],
  service: ['cli'],
  agent: ['cli'],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('imports between layers point down only', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const layer = relative(SRC, file).split('/')[0];
    const forbidden = FORBIDDEN[layer] ?? [];
    for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = relative(SRC, join(file, '..', match[1])).split('/')[0];
      if (forbidden.includes(target)) violations.push(`${relative(SRC, file)} imports ${match[1]}`);
      // The engine talks to storage through the RunStore interface only, never an implementation.
      if (layer === 'engine' && relative(SRC, join(file, '..', match[1])).startsWith('store/sqlite')) {
        violations.push(`${relative(SRC, file)} imports ${match[1]}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the get command path does not load the YAML parser or the schema validator', () => {
  // Start-up time of `dvm get` is a benchmark target: these imports must stay lazy.
  const eager = [
    'src/cli/main.ts',
    'src/cli/commands/get.ts',
    'src/service/query.ts',
    'src/service/platform.ts',
    'src/cli/output/objects.ts',
  ];
  for (const file of eager) {
    const text = readFileSync(join(SRC, '..', file), 'utf8');
    assert.doesNotMatch(text, /^import .* from '(yaml|ajv|@sinclair\/typebox)'/m, file);
  }
});
