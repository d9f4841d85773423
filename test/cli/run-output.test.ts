import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvmOk, tempHome } from '../helpers/dvm.ts';

// What `dvm run` prints and records, beyond the run's outcome.

function setup(tasks: string): string {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', 'test/fixtures/runs.yaml']);
  dvmOk(home, ['apply', '-f', '-'], { input: tasks });
  return home;
}

test('a callback that notes a failure on a task prints no second line for it', () => {
  const home = setup(`apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: cb, domain: ci}
spec:
  command: [echo, hi]
  onSuccess: {action: exec, command: ["false"]}
`);
  const run = dvmOk(home, ['run', 'task', 'cb']);
  assert.equal(run.stdout.match(/ task cb Succeeded in /g)?.length, 1, run.stdout);
  const id = run.stderr.match(/^run (r\S+):/m)?.[1] as string;
  assert.match(
    dvmOk(home, ['status', 'run', id]).stdout,
    /^task\/cb {2}Succeeded .*exec failed: command false exited/m,
  );
});
