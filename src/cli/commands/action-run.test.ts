import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paramsShown } from './action-run.ts';

test('a confirmation shows each param as key=value, secrets redacted (schema-marked or secret-shaped), long values cut', () => {
  const schema = {
    type: 'object',
    properties: { container: { type: 'string' }, apiToken: { type: 'string', 'x-secret': true } },
  };
  const shown = paramsShown(
    { container: 'web', replicas: 3, apiToken: 'abc', url: 'https://u:hunter22@x', note: 'n'.repeat(100) },
    schema,
  );
  assert.match(
    shown,
    /^container=web replicas=3 apiToken=\[REDACTED\] url=\S*\[REDACTED\]\S* note=n{77}\.\.\.$/,
  );
  assert.doesNotMatch(shown, /hunter22|abc/);
  assert.equal(paramsShown({}, schema), '(none)');
});
