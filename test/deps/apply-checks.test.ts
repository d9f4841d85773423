// Bad dependency definitions and volume schedules are refused at apply time, with the field and the fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, tempHome } from '../helpers/dvm.ts';

test('a $(…) reference to an undeclared port or volume, or an unknown one, is DVM_REF_NOT_FOUND at apply time', () => {
  const home = tempHome();
  const run = dvm(home, ['apply', '-f', '-'], {
    input: `apiVersion: devopsmaestro.io/v1
kind: Dependency
metadata: {name: broken}
spec:
  ports: [{containerPort: 5432}]
  volumes: [{name: data, mountPath: /data}]
  healthCheck: {command: [pg_isready, -p, "$(port)"]}
  process:
    command: [postgres, -p, "$(ports.6379)", -D, "$(volumes.dta)", "$(bogus)", "$(env.PGDATA)"]
`,
  });
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /spec\.process\.command\[2\]: \$\(ports\.6379\): the definition has no container port 6379/,
  );
  assert.match(
    run.stderr,
    /spec\.process\.command\[4\]: \$\(volumes\.dta\): the definition has no volume "dta"/,
  );
  assert.match(run.stderr, /spec\.process\.command\[5\]: \$\(bogus\)/);
  assert.doesNotMatch(run.stderr, /healthCheck|PGDATA/, 'valid references pass');
  assert.equal(dvm(home, ['get', 'dependencies', '-o', 'name']).stdout, '', 'nothing was written');
});

test('a Volume backup schedule that does not parse is DVM_CRON_INVALID at apply time', () => {
  const home = tempHome();
  const run = dvm(home, ['apply', '-f', '-'], {
    input: `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: e}
---
apiVersion: devopsmaestro.io/v1
kind: Volume
metadata: {name: v, ecosystem: e}
spec:
  backup: {enabled: true, schedule: "every day", retention: 7d}
`,
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /DVM_CRON_INVALID <stdin>:9:\d+ Volume\/v spec\.backup\.schedule/);
});
