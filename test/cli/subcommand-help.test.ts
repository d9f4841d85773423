import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

// A word the usage block puts after `dvm VERB` that names a subcommand (`create`, `task|workflow`), not a
// placeholder (KIND), a flag (--resume) or an optional part ([--actor …]).
const SUBCOMMAND = /^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$/;

interface Form {
  subcommands: string[];
  /** The form's lines, trimmed: its `dvm VERB …` line and the lines that continue it. */
  lines: string[];
}

// The lines of the usage block (up to the first blank line), trimmed, without the `Usage:` label.
function usageBlock(help: string): string[] {
  const end = help.indexOf('\n\n');
  return (end === -1 ? help : help.slice(0, end))
    .replace(/^Usage:/, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

// Each `dvm VERB …` line of a usage block with its continuation lines, and the subcommands it names.
function formsOf(verb: string, help: string): Form[] {
  const forms: Form[] = [];
  for (const line of usageBlock(help)) {
    if (line.startsWith(`dvm ${verb}`)) {
      const word = line.split(/\s+/)[2] ?? '';
      forms.push({ subcommands: SUBCOMMAND.test(word) ? word.split('|') : [], lines: [line] });
    } else forms.at(-1)?.lines.push(line);
  }
  return forms;
}

test('dvm GROUP SUB --help shows that subcommand’s usage lines only, for every subcommand of every group', () => {
  const home = tempHome();
  const verbs = [...dvmOk(home, ['help']).stdout.matchAll(/^ {2}(\S+)\s/gm)].map((m) => m[1]);
  assert.ok(verbs.length >= 25, verbs.join());
  const checked: string[] = [];
  for (const verb of verbs) {
    const group = dvmOk(home, [verb, '--help']).stdout;
    const forms = formsOf(verb, group);
    assert.ok(forms.length > 0, `dvm ${verb} --help has no usage line:\n${group}`);
    for (const form of forms) {
      for (const sub of form.subcommands) {
        const run = dvm(home, [verb, sub, '--help']);
        const where = `dvm ${verb} ${sub} --help`;
        assert.equal(run.status, 0, `${where}: ${run.stderr}`);
        assert.equal(run.stderr, '', where);
        assert.match(run.stdout, /^Usage: dvm /, `${where}:\n${run.stdout}`);
        // Exactly this subcommand's line(s), continuation lines included, and no other form's.
        assert.deepEqual(usageBlock(run.stdout), form.lines, `${where}:\n${run.stdout}`);
        const others = forms.length > 1;
        assert.equal(
          run.stdout.includes(`See also: dvm ${verb} --help`),
          others,
          `${where} ${others ? 'lacks' : 'has'} the See also line:\n${run.stdout}`,
        );
        // The group's description follows (its first paragraph, when it has one).
        const firstParagraph = group.split('\n\n')[1];
        if (firstParagraph) assert.ok(run.stdout.includes(firstParagraph), `${where}:\n${run.stdout}`);
        checked.push(`${verb} ${sub}`);
      }
    }
  }
  // The walk found the groups (a parser that finds nothing must not pass).
  for (const sub of [
    'token create',
    'action run',
    'audit verify',
    'execution cancel',
    'use none',
    'status run',
  ])
    assert.ok(checked.includes(sub), `${sub} not walked: ${checked.join(', ')}`);
});

test('a subcommand’s help keeps continuation lines, and only its own entry of a per-subcommand table', () => {
  const home = tempHome();
  const run = dvmOk(home, ['action', 'run', '--help']).stdout;
  assert.match(run, /^Usage: dvm action run NAME\[@VERSION\] \[--param KEY=VALUE …\]/);
  // The continuation lines stay aligned under the subcommand's arguments.
  assert.match(run, /^Usage: dvm action run NAME.*\n {37}\[--yes\] \[--confirmation-token/);
  assert.doesNotMatch(run, /dvm action (list|describe|approvals|approve) /);
  const cancel = dvmOk(home, ['execution', 'cancel', '--help']).stdout;
  assert.match(cancel, /^cancel {2}stops a running execution/m);
  assert.match(cancel, /^ {8}that runs it can/m);
  assert.doesNotMatch(cancel, /^(list|get|logs) {2,}/m);
  assert.match(cancel, /^The executions of typed actions/m);
  assert.match(cancel, /\nSee also: dvm execution --help/);
});

test('-h and dvm help GROUP SUB are the same; unknown subcommands, groups and dvm --help are unchanged', () => {
  const home = tempHome();
  const help = dvmOk(home, ['token', 'create', '--help']).stdout;
  assert.match(help, /^Usage: dvm token create --name NAME --role viewer\|operator\|admin/);
  assert.doesNotMatch(help, /dvm token (list|revoke)/);
  assert.equal(dvmOk(home, ['token', 'create', '-h']).stdout, help);
  assert.equal(dvmOk(home, ['help', 'token', 'create']).stdout, help);
  // Flags before the subcommand do not matter.
  assert.equal(dvmOk(home, ['--name', 'x', 'token', 'create', '--help']).stdout, help);
  const group = dvmOk(home, ['token', '--help']).stdout;
  assert.match(group, /^Usage:\n {2}dvm token create .*\n {2}dvm token list .*\n {2}dvm token revoke /);
  assert.equal(dvmOk(home, ['token', 'bogus', '--help']).stdout, group);
  assert.equal(dvmOk(home, ['help', 'token']).stdout, group);
  // A verb without subcommands: its argument is not one (`dvm get apps --help` is `dvm get --help`).
  assert.equal(dvmOk(home, ['get', 'apps', '--help']).stdout, dvmOk(home, ['get', '--help']).stdout);
  assert.match(dvmOk(home, ['--help']).stdout, /^dvm: one declarative model.*\n\nCommands:\n {2}get /);
});
