import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { dvmOk, REPO_ROOT, tempHome } from '../helpers/dvm.ts';

function documentCount(dir: string): number {
  return readdirSync(join(REPO_ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .reduce(
      (n, f) =>
        n + parseAllDocuments(readFileSync(join(REPO_ROOT, dir, f), 'utf8')).filter((d) => d.contents).length,
      0,
    );
}

test('every example of seed 000 applies as written, as one batch, and re-applies unchanged', () => {
  const home = tempHome();
  const out = dvmOk(home, ['apply', '-R', '-f', 'examples/seed']).stdout.trim().split('\n');
  assert.equal(out.length, documentCount('examples/seed'));
  assert.ok(
    out.every((line) => line.endsWith(' created')),
    out.join('\n'),
  );
  const again = dvmOk(home, ['apply', '-R', '-f', 'examples/seed']).stdout.trim().split('\n');
  assert.ok(
    again.every((line) => line.endsWith(' unchanged')),
    again.join('\n'),
  );
  // Objects the seed names: the featureflag of a user-defined kind and the legacy `project: frontend`.
  assert.match(dvmOk(home, ['get', 'ff', '-A', '-o', 'name']).stdout, /featureflag\/new-dashboard/);
  assert.match(dvmOk(home, ['get', 'orchestrations', '-A', '-o', 'name']).stdout, /full-platform-test/);
});

test('npm start (the quickstart) applies the example platform and prints the tree', () => {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/quickstart.ts')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(
    run.stdout,
    /^quickstart \(Ecosystem\) {2}\[1 datalake\]\n└── shop \(Domain\) {2}\[7 tasks, 1 workflow, 1 pipeline, 1 datastore\]\n {4}├── catalog-api \(App\)\n {4}└── orders-api \(App\)$/m,
  );
  assert.equal(run.stdout.match(/ created$/gm)?.length, documentCount('examples/quickstart'));
  const out = run.stdout + run.stderr;
  assert.match(out, /pipeline\/ci-pipeline Succeeded/);
  if (/not installed: skipping/.test(out)) {
    assert.notEqual(process.env.CI, 'true', 'CI installs PostgreSQL and Redis, so the live part must run');
    return;
  }
  // The live part: dependencies healthy, data seeded, apps deployed, integration tests green, then down.
  assert.match(out, /shop-db\s+Ecosystem\/quickstart\s+process\s+healthy/);
  assert.match(out, /products\s+shop-db \(postgres\)\s+products\s+3\s+yes\s+3 rows/);
  assert.match(out, /app\/orders-api deployed on process/);
  assert.match(out, /task\/integration-tests Succeeded/);
  assert.match(out, /down: 2 app\(s\), 2 dependency instance\(s\) stopped/);
});
