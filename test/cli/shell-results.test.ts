import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const work = mkdtempSync(join(tmpdir(), 'dvm-shell-results-'));
after(() => rmSync(work, { recursive: true, force: true }));
const pwned = join(work, 'pwned');

// Results that run a command, or break quoting, if a value is spliced into a script's text.
const PAYLOADS = [
  `feature;touch\${IFS}${pwned};#`,
  `$(touch ${pwned})`,
  `\`touch ${pwned}\``,
  `say "hi"; touch ${pwned}`,
  `it's; touch ${pwned}; '`,
  `one\ntouch ${pwned}\nthree`,
];

const refs = PAYLOADS.map((_, i) => `$(tasks.produce.results.r${i})`);
const task = (name: string, spec: string) =>
  `---\napiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: ${name}, domain: ci}\nspec:\n  workdir: ${work}\n${spec}`;
const consumers: Record<string, string> = {
  double: `  shell: ${JSON.stringify(`printf '%s|' ${refs.map((r) => `"${r}"`).join(' ')}`)}\n`,
  plain: `  shell: ${JSON.stringify(`printf '%s|' ${refs.join(' ')}`)}\n`,
  env: `  shell: printf '%s|' "$V0" "$V5"\n  env: [{name: V0, value: ${JSON.stringify(refs[0])}}, {name: V5, value: ${JSON.stringify(refs[5])}}]\n`,
};

const yaml = [
  `apiVersion: devopsmaestro.io/v1\nkind: Ecosystem\nmetadata: {name: lab}\n---\napiVersion: devopsmaestro.io/v1\nkind: Domain\nmetadata: {name: ci, ecosystem: lab}\n`,
  task(
    'produce',
    `  shell: for i in ${PAYLOADS.map((_, i) => i).join(' ')}; do cp payload-$i.txt "$DVM_RESULTS/r$i"; done\n  results: [${PAYLOADS.map((_, i) => `{name: r${i}}`).join(', ')}]\n`,
  ),
  ...Object.entries(consumers).map(([name, spec]) => task(name, spec)),
  `---\napiVersion: devopsmaestro.io/v1\nkind: Workflow\nmetadata: {name: results-in-shell, domain: ci}\nspec:\n  tasks:\n    - {name: produce, taskRef: produce}\n${Object.keys(
    consumers,
  )
    .map((name) => `    - {name: ${name}, taskRef: ${name}, dependsOn: [produce]}\n`)
    .join('')}`,
].join('');

test('results in shell: scripts are values in every quoting context, never script text', () => {
  for (const [i, payload] of PAYLOADS.entries()) writeFileSync(join(work, `payload-${i}.txt`), payload);
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: yaml });
  const run = dvm(home, ['run', 'workflow', 'results-in-shell']);
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const id = run.stderr.match(/^run (r\S+):/m)?.[1] ?? '';
  const printed = (name: string) => dvmOk(home, ['logs', 'run', id, '--task', name]).stdout;
  const all = PAYLOADS.map((p) => `${p}|`).join('');
  // Inside double quotes the value comes without added quotes.
  assert.equal(printed('double'), all);
  assert.equal(printed('plain'), all);
  assert.equal(printed('env'), `${PAYLOADS[0]}|${PAYLOADS[5]}|`);
  assert.equal(existsSync(pwned), false, 'a result ran a command');
});

test('a reference in a here-document with a quoted delimiter is refused at apply time', () => {
  const home = tempHome();
  const bad = `${yaml}${task('quoted-heredoc', `  shell: "cat <<'EOF'\\n$(tasks.produce.results.r0)\\nEOF"\n`)}`;
  const run = dvm(home, ['apply', '-f', '-'], { input: bad });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /DVM_RESULT_REF <stdin>:\d+:\d+ Task\/quoted-heredoc spec\.shell: \$\(tasks\.produce\.results\.r0\) stands in a here-document with a quoted delimiter/,
  );
});

test('a reference inside single quotes is refused at apply time: the text may be code for another program', () => {
  const home = tempHome();
  // The audits' reproductions: the user's own single quotes, and a script for a nested shell.
  const bad = `${yaml}${task('single', `  shell: "echo 'branch $(tasks.produce.results.r0)'"\n`)}${task(
    'nested',
    `  shell: "sh -c 'echo deploying $(tasks.produce.results.r1)'"\n`,
  )}`;
  const run = dvm(home, ['apply', '-f', '-'], { input: bad });
  assert.equal(run.status, 1);
  for (const [name, ref] of [
    ['single', 'r0'],
    ['nested', 'r1'],
  ])
    assert.match(
      run.stderr,
      new RegExp(
        `DVM_RESULT_REF <stdin>:\\d+:\\d+ Task/${name} spec\\.shell: \\$\\(tasks\\.produce\\.results\\.${ref}\\) stands inside single quotes`,
      ),
    );
  assert.match(run.stderr, /fix: Write it in double quotes/);
});
