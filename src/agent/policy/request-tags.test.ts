import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestTags } from './request-tags.ts';

test('an object param is one text whatever the order of its keys: a forbid on its JSON holds for either order', () => {
  const one = requestTags(
    { env: 'prod' },
    { details: { team: 'oncall', page: true, nested: { b: 2, a: 1 } } },
  );
  const other = requestTags(
    { env: 'prod' },
    { details: { nested: { a: 1, b: 2 }, page: true, team: 'oncall' } },
  );
  assert.equal(one.params.details, '{"nested":{"a":1,"b":2},"page":true,"team":"oncall"}');
  assert.equal(other.params.details, one.params.details);
  assert.deepEqual(requestTags({ env: 'prod', labels: { z: 1, a: 2 } }, {}).target, {
    labels: '{"a":2,"z":1}',
  });
  assert.deepEqual(requestTags({ env: 'dev' }, { replicas: 3, name: 'web' }).numbers, { replicas: 3 });
});
