import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

test('api-resources lists all 25 built-in kinds with short names and scope', () => {
  const out = dvmOk(tempHome(), ['api-resources']).stdout;
  const rows = out.trim().split('\n').slice(1);
  assert.equal(rows.length, 25);
  assert.match(out, /^workflows\s+wf\s+devopsmaestro\.io\/v1\s+Domain\s+Workflow$/m);
  assert.match(out, /^ecosystems\s+eco\s+devopsmaestro\.io\/v1\s+Global\s+Ecosystem$/m);
  assert.match(out, /^workspaces\s+ws\s+devopsmaestro\.io\/v1\s+App\s+Workspace$/m);
});

test('explain documents kinds and fields from the schema, and suggests near field names', () => {
  const home = tempHome();
  const app = dvmOk(home, ['explain', 'app']).stdout;
  assert.match(app, /^KIND:\s+App$/m);
  assert.match(app, /^ {2}spec\t<Object> -required-$/m);
  const health = dvmOk(home, ['explain', 'app.spec.healthCheck']).stdout;
  assert.match(health, /^FIELD:\s+spec\.healthCheck <Object>$/m);
  assert.match(health, /^ {2}interval\t<string>$/m);
  assert.match(
    dvmOk(home, ['explain', 'workflow.spec.tasks.dependsOn']).stdout,
    /FIELD:\s+spec\.tasks\.dependsOn <\[\]string>/,
  );
  const typo = dvm(home, ['explain', 'app.spec.helthCheck']);
  assert.equal(typo.status, 1);
  assert.match(
    typo.stderr,
    /DVM_NOT_FOUND: field "helthCheck" does not exist in App\.spec \(did you mean "healthCheck"\?\)/,
  );
});

test('schema export writes editor schemas that validate the shipped examples', () => {
  const home = tempHome();
  const out = join(home, 'schemas');
  dvmOk(home, ['schema', 'export', out]);
  const files = readdirSync(out);
  assert.equal(files.length, 26);
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const file of files) ajv.addSchema(JSON.parse(readFileSync(join(out, file), 'utf8')), file);
  const validate = ajv.getSchema('dvm.schema.json');
  assert.ok(validate);
  const good = parse(
    'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: t}\nspec: {command: [make]}\n',
  );
  assert.equal(validate(good), true, JSON.stringify(validate.errors));
  const bad = parse(
    'apiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: t}\nspec: {comand: [make]}\n',
  );
  assert.equal(validate(bad), false);
});

test('completion scripts are valid shell', () => {
  const home = tempHome();
  const bash = dvmOk(home, ['completion', 'bash']).stdout;
  assert.match(bash, /complete -F _dvm dvm/);
  assert.equal(spawnSync('bash', ['-n'], { input: bash }).status, 0);
  assert.match(dvmOk(home, ['completion', 'zsh']).stdout, /^#compdef dvm/);
  assert.equal(dvm(home, ['completion', 'fish']).status, 2);
});

test('version, help, and unknown commands', () => {
  const home = tempHome();
  assert.match(
    dvmOk(home, ['version']).stdout,
    /^dvm \d+\.\d+\.\d+ \(schemas: dvm\.db \d+, agent\.db \d+; node v24\./,
  );
  const json = JSON.parse(dvmOk(home, ['version', '-o', 'json']).stdout);
  assert.deepEqual([json.storeSchema, json.agentSchema], [5, 7]);
  assert.match(dvmOk(home, ['--version']).stdout, /^dvm \d+\.\d+\.\d+ \(schemas: /);
  assert.match(dvmOk(home, ['help']).stdout, /^ {2}apply\s+Create or update objects/m);
  assert.match(dvmOk(home, ['get', '--help']).stdout, /^Usage: dvm get KIND/);
  const unknown = dvm(home, ['aply']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /DVM_USAGE: unknown command "aply" \(did you mean "apply"\?\)/);
  assert.equal(dvm(home, []).status, 2);
  // An error's text is shown, not obeyed: an escape sequence in what was typed (or what an agent sent) is escaped.
  const hostile = dvm(home, ['\u001b]0;pwned\u0007\u001b[2Jx']);
  assert.equal(hostile.status, 2);
  assert.ok(!hostile.stderr.includes('\u001b') && !hostile.stderr.includes('\u0007'), hostile.stderr);
  assert.match(hostile.stderr, /unknown command "\\x1b\]0;pwned\\x07\\x1b\[2Jx"\n {2}fix: /);
});

test('the completion script knows every verb of dvm help', () => {
  const home = tempHome();
  const bash = dvmOk(home, ['completion', 'bash']).stdout;
  const verbs = [...dvmOk(home, ['help']).stdout.matchAll(/^ {2}(\S+)\s/gm)].map((m) => m[1]);
  assert.ok(verbs.length >= 17, verbs.join());
  const line = bash.split('\n').find((l) => l.includes('compgen -W "get ')) ?? '';
  for (const verb of verbs)
    assert.ok(line.includes(` ${verb} `) || line.includes(`"${verb} `), `${verb} missing from ${line}`);
});

test('an argument a command does not take is DVM_USAGE with its usage, before anything runs', () => {
  const home = tempHome();
  const cases: [string[], string][] = [
    [['version', 'extra'], 'extra'],
    [['api-resources', 'apps'], 'apps'],
    [['cancel', 'run', 'r1', 'r2'], 'r2'],
    [['token', 'create', '--name', 'a', '--role', 'viewer', 'stray'], 'stray'],
    [['token', 'revoke', 'a', 'b'], 'b'],
    [['action', 'run', 'system.info', 'k=v'], 'k=v'],
    [['stop', 'dependencies', 'postgres'], 'postgres'],
    [['use', 'none', 'x'], 'x'],
    [['apply', 'file.yaml'], 'file.yaml'],
  ];
  for (const [argv, extra] of cases) {
    const result = dvm(home, argv);
    assert.equal(result.status, 2, `${argv.join(' ')}: ${result.stderr}`);
    assert.match(
      result.stderr,
      new RegExp(`DVM_USAGE: dvm ${argv[0]} does not take the argument "${extra}"`),
    );
    // A param written without --param is told how to pass it; anything else gets the usage line.
    assert.match(
      result.stderr,
      extra === 'k=v' ? /fix: Pass params with --param: --param k=v\./ : /fix: Usage: dvm /,
    );
  }
  // The usage line shown is the subcommand's.
  assert.match(dvm(home, ['action', 'describe', 'x', 'y']).stderr, /fix: Usage: dvm action describe NAME/);
  // Also a subcommand written as one of a form's alternatives (`task|workflow|…`), not the verb's first form.
  assert.match(
    dvm(home, ['status', 'workflow', 'w', 'extra']).stderr,
    /fix: Usage: dvm status task\|workflow\|/,
  );
  // Nothing ran: the token was not created.
  assert.match(dvmOk(home, ['token', 'list']).stdout, /^No tokens\.$/m);
  // What a command takes still works.
  assert.equal(dvm(home, ['token', 'create', '--name', 'a', '--role', 'viewer']).status, 0);
  assert.match(dvmOk(home, ['version']).stdout, /^dvm /);
});
