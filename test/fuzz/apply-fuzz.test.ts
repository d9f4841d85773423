// Fuzz test of `apply`: thousands of seeded, mutated documents go through parseYamlSource and applyDocuments
// against a real SQLite store. Every failure must be a coded DvmError and must leave the store untouched.
// Reproduce a run with DVM_FUZZ_SEED=<seed> (and DVM_FUZZ_ITERATIONS=<n>); failures print the seed,
// iteration, mutation and the YAML that caused them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ERROR_CODES } from '../../src/errors/codes.ts';
import { DvmError } from '../../src/errors/dvm-error.ts';
import { formatError } from '../../src/errors/format.ts';
import { assertParsed, parseYamlSource } from '../../src/model/yaml-source.ts';
import { applyDocuments } from '../../src/service/apply/apply.ts';
import { loadKinds, openPlatform, type Platform } from '../../src/service/platform.ts';
import { dvm, tempHome } from '../helpers/dvm.ts';
import { makeCase, mulberry32 } from './mutations.ts';

const SEED = Number(process.env.DVM_FUZZ_SEED ?? 0x5eed_d7a);
const ITERATIONS = Number(process.env.DVM_FUZZ_ITERATIONS ?? 1000);
const BASE_FILE = new URL('./base.yaml', import.meta.url).pathname;
const BASE_TEXT = readFileSync(BASE_FILE, 'utf8');

/** A full dump of the store: every object (with versions and timestamps) plus the fingerprint (covers refs). */
async function dump(platform: Platform): Promise<string> {
  return JSON.stringify({
    objects: await platform.store.list({}),
    fingerprint: await platform.store.fingerprint(),
  });
}

/** Why a thrown value is not an acceptable apply error, or undefined when it is. */
function badError(error: unknown): string | undefined {
  if (!(error instanceof DvmError)) {
    return `threw a non-DvmError ${(error as Error)?.constructor?.name}: ${(error as Error)?.stack ?? String(error)}`;
  }
  if (!(error.code in ERROR_CODES)) return `unknown code ${error.code}`;
  for (const cause of error.causes) {
    if (!(cause.code in ERROR_CODES)) return `cause with unknown code ${cause.code}: ${cause.message}`;
    if (typeof cause.message !== 'string' || cause.message === '')
      return `cause ${cause.code} without a message`;
  }
  try {
    formatError(error);
    JSON.stringify(error.toJSON());
  } catch (e) {
    return `error cannot be rendered: ${(e as Error).message}`;
  }
  return undefined;
}

// What reading a file may refuse it with: its YAML, or a `__proto__` / `constructor.prototype` key in it.
const PARSE_CODES: string[] = ['DVM_YAML_SYNTAX', 'DVM_SCHEMA_INVALID'];

/** Why YAML syntax errors of a parse are malformed, or undefined when each has its code, file and line. */
function badSyntaxErrors(
  errors: ReturnType<typeof parseYamlSource>['errors'],
  file: string,
): string | undefined {
  for (const e of errors) {
    if (!PARSE_CODES.includes(e.code)) return `syntax error with code ${e.code}`;
    if (e.file !== file || !(Number(e.line) >= 1) || !(Number(e.column) >= 1)) {
      return `syntax error without file:line:col (${e.file}:${e.line}:${e.column}): ${e.message}`;
    }
    if (!e.message) return 'syntax error without a message';
  }
  return undefined;
}

interface Failure {
  iteration: number;
  mutation: string;
  problem: string;
  text: string;
}

test(`apply survives ${ITERATIONS} mutated documents (seed ${SEED})`, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-fuzz-'));
  after(() => rmSync(home, { recursive: true, force: true }));
  const platform = await openPlatform(home);
  after(() => platform.store.close());

  const baseParsed = parseYamlSource(BASE_TEXT, 'base.yaml');
  assert.deepEqual(baseParsed.errors, []);
  await applyDocuments(platform, baseParsed.documents);
  platform.kinds = await loadKinds(platform.store);
  const base = baseParsed.documents.map((d) => d.data as Record<string, unknown>);

  const failures: Failure[] = [];
  const counts = new Map<string, { ok: number; failed: number; syntax: number; ms: number }>();
  let before = await dump(platform);
  let slowest = { ms: 0, iteration: -1, mutation: '' };
  for (let i = 0; i < ITERATIONS; i++) {
    // Each iteration has its own stream, so one iteration can be replayed without the ones before it.
    const rng = mulberry32((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    const fuzz = makeCase(rng, base);
    const family = fuzz.mutation.split('+')[0];
    const count = counts.get(family) ?? { ok: 0, failed: 0, syntax: 0, ms: 0 };
    counts.set(family, count);
    const file = `fuzz-${i}.yaml`;
    const fail = (problem: string) =>
      failures.push({ iteration: i, mutation: fuzz.mutation, problem, text: fuzz.text });
    const started = performance.now();
    try {
      let parsed: ReturnType<typeof parseYamlSource>;
      try {
        parsed = parseYamlSource(fuzz.text, file);
      } catch (error) {
        fail(`parseYamlSource threw: ${(error as Error)?.stack ?? String(error)}`);
        continue;
      }
      const syntax = badSyntaxErrors(parsed.errors, file);
      if (syntax) fail(syntax);
      let docs: ReturnType<typeof assertParsed>;
      try {
        docs = assertParsed([parsed]);
      } catch (error) {
        count.syntax++;
        const problem = badError(error);
        if (problem) fail(problem);
        else if (
          !PARSE_CODES.includes((error as DvmError).code) ||
          !(Number((error as DvmError).location.line) >= 1)
        ) {
          fail(`assertParsed threw ${(error as DvmError).code} without a line`);
        }
        continue;
      }
      try {
        await applyDocuments(platform, docs);
        count.ok++;
        // A valid mutation changed the store: that is the new state to compare against.
        before = await dump(platform);
        platform.kinds = await loadKinds(platform.store);
      } catch (error) {
        count.failed++;
        const problem = badError(error);
        if (problem) fail(problem);
        const now = await dump(platform);
        if (now !== before) {
          fail(`the store changed although apply failed with ${(error as DvmError)?.code}`);
          before = now;
        }
      }
    } finally {
      const ms = performance.now() - started;
      count.ms += ms;
      if (ms > slowest.ms) slowest = { ms, iteration: i, mutation: fuzz.mutation };
    }
  }

  const summary = [...counts]
    .map(([m, c]) => `${m}: ${c.ok} ok, ${c.failed} rejected, ${c.syntax} syntax, ${c.ms.toFixed(0)} ms`)
    .join('; ');
  t.diagnostic(`seed ${SEED}: ${summary}`);
  t.diagnostic(`slowest iteration ${slowest.iteration} (${slowest.mutation}): ${slowest.ms.toFixed(0)} ms`);
  if (failures.length > 0) {
    const out = join(tmpdir(), `dvm-fuzz-failures-${SEED}.json`);
    writeFileSync(out, JSON.stringify(failures, null, 2));
    const firstByProblem = new Map<string, Failure>();
    for (const f of failures) {
      const key = f.problem
        .split('\n')[0]
        .replace(/[0-9]+/g, 'N')
        .slice(0, 160);
      if (!firstByProblem.has(key)) firstByProblem.set(key, f);
    }
    const report = [...firstByProblem.values()]
      .map(
        (f) =>
          `- iteration ${f.iteration} (${f.mutation}): ${f.problem.slice(0, 1500)}\n  input:\n${f.text.slice(0, 1500)}`,
      )
      .join('\n');
    assert.fail(
      `${failures.length} fuzz failures with DVM_FUZZ_SEED=${SEED} (all of them in ${out}); first of each kind:\n${report}`,
    );
  }
});

// Deterministic cases through the real binary: exit 1, `error: DVM_…` on stderr, and file:line:col.
const CLI_CASES: { name: string; code: string; where: string; yaml: string }[] = [
  {
    name: 'a YAML syntax error (duplicate key)',
    code: 'DVM_YAML_SYNTAX',
    where: 'bad.yaml:5:3',
    yaml: 'apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata:\n  name: acme\n  name: again\n',
  },
  {
    name: 'an unknown field with a near-miss name',
    code: 'DVM_SCHEMA_INVALID',
    where: 'bad.yaml:6:3',
    yaml: 'apiVersion: devopsmaestro.io/v1\nkind: Dependency\nmetadata:\n  name: postgres\nspec:\n  imagee: postgres:16\n',
  },
  {
    name: 'a near-miss kind',
    code: 'DVM_KIND_UNKNOWN',
    where: 'bad.yaml:2:1',
    yaml: 'apiVersion: devopsmaestro.io/v1\nkind: Ecosytem\nmetadata:\n  name: acme\n',
  },
  {
    name: 'a dependsOn cycle',
    code: 'DVM_DAG_CYCLE',
    where: 'bad.yaml:18:3',
    yaml: [
      'apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: acme}',
      'apiVersion: devopsmaestro.io/v1\nkind: Domain\nmetadata: {name: payments}',
      'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: lint}\nspec: {command: [make, lint]}',
      'apiVersion: devopsmaestro.io/v1\nkind: Workflow\nmetadata: {name: ci}\nspec:\n  tasks:\n    - {name: a, taskRef: lint, dependsOn: [b]}\n    - {name: b, taskRef: lint, dependsOn: [a]}',
    ].join('\n---\n'),
  },
  {
    name: 'a reference to a missing task',
    code: 'DVM_REF_NOT_FOUND',
    where: 'bad.yaml:19:7',
    yaml: [
      'apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: acme}',
      'apiVersion: devopsmaestro.io/v1\nkind: Domain\nmetadata: {name: payments}',
      'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: lint}\nspec: {command: [make, lint]}',
      'apiVersion: devopsmaestro.io/v1\nkind: Workflow\nmetadata: {name: ci}\nspec:\n  tasks:\n    - taskRef: lnt',
    ].join('\n---\n'),
  },
];

for (const c of CLI_CASES) {
  test(`dvm apply -f reports ${c.name} as ${c.code} with file:line:col`, () => {
    const home = tempHome();
    const dir = mkdtempSync(join(tmpdir(), 'dvm-fuzz-cli-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'bad.yaml'), c.yaml);
    const run = dvm(home, ['apply', '-f', 'bad.yaml'], { cwd: dir });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`^error: ${c.code}\\b`, 'm'), run.stderr);
    assert.ok(run.stderr.includes(c.where), `expected ${c.where} in:\n${run.stderr}`);
    assert.match(run.stderr, /bad\.yaml:\d+:\d+/, run.stderr);
    assert.equal(run.stdout, '');
    // Nothing was written: the store has no objects at all.
    const listed = dvm(home, ['get', 'ecosystems']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout, '');
  });
}
