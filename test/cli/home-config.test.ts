import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';
import { LAB_CI } from '../helpers/runs.ts';

const TASK = `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: hello, domain: ci}
spec: {command: [echo, hi]}
`;

test('a config.yaml that is not valid YAML is a coded error naming the file and line, not an internal error', () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], { input: TASK });
  const config = join(home, 'config.yaml');
  writeFileSync(config, 'notify:\n  slack:\n    url: "http://unclosed\n');
  const run = dvm(home, ['run', 'task', 'hello']);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /^error: DVM_YAML_SYNTAX \S*config\.yaml:\d+:\d+: /);
  assert.ok(run.stderr.includes(`${config}:`), run.stderr);
  assert.doesNotMatch(run.stderr, /DVM_INTERNAL|bug in dvm|\n\s+at /);
  writeFileSync(config, '- a list\n- not settings\n');
  const listed = dvm(home, ['run', 'task', 'hello']);
  assert.match(listed.stderr, /DVM_SCHEMA_INVALID .*config\.yaml must be a mapping/);
  writeFileSync(config, 'notify: {}\n');
  assert.match(dvmOk(home, ['run', 'task', 'hello']).stdout, /Succeeded/);
});
