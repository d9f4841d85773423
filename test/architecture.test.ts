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

test('dvm run of applied objects loads neither the YAML parser nor the schema libraries', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const home = mkdtempSync(join(tmpdir(), 'dvm-arch-'));
  try {
    const dvm = (args: string[], extra: string[] = []) =>
      spawnSync(process.execPath, [...extra, join(SRC, '..', 'bin', 'dvm.js'), ...args], {
        env: { ...process.env, DVM_HOME: home },
        encoding: 'utf8',
      });
    const file = join(home, 'wf.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: lab}',
        'apiVersion: devopsmaestro.io/v1\nkind: Domain\nmetadata: {name: ci, ecosystem: lab}',
        'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: t1, ecosystem: lab, domain: ci}\nspec: {command: ["/bin/true"], env: [{name: A, value: "1"}], timeout: 1m}',
        'apiVersion: devopsmaestro.io/v1\nkind: Workflow\nmetadata: {name: wf, ecosystem: lab, domain: ci}\nspec: {tasks: [{name: a, taskRef: t1}]}',
      ].join('\n---\n'),
    );
    assert.equal(dvm(['apply', '-f', file]).status, 0);
    // A resolve hook reports every package the run imports.
    const hook = `data:text/javascript,${encodeURIComponent(`
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(s, c, next) {
        const r = await next(s, c);
        const m = /node_modules\\\\/((?:@[^/]+\\\\/)?[^/]+)/.exec(r.url);
        if (m) process.stderr.write('PACKAGE ' + m[1] + '\\\\n');
        return r;
      }\`));`)}`;
    const run = dvm(['run', 'workflow', 'wf', '-e', 'lab', '-d', 'ci'], ['--import', hook]);
    assert.equal(run.status, 0, run.stderr);
    const packages = new Set([...run.stderr.matchAll(/^PACKAGE (\S+)$/gm)].map((m) => m[1]));
    for (const heavy of ['yaml', 'ajv', '@sinclair/typebox'])
      assert.ok(!packages.has(heavy), `dvm run loaded ${heavy}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
