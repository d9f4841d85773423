import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paramsOf } from './action-run.ts';

test('paramsOf: JSON where a param cannot be a string; a JSON list or object where the schema allows one besides a string; else the string', () => {
  const schema = {
    type: 'object',
    properties: {
      command: { type: ['string', 'array'] },
      labels: { type: ['string', 'object'] },
      shell: { type: 'string' },
      tail: { type: 'integer' },
      env: { type: ['object', 'array'] },
    },
  };
  assert.deepEqual(
    paramsOf(
      ['command=["echo","a b"]', 'labels={"a":"b"}', 'shell=["x"]', 'tail=50', 'env={"A":"1"}', 'other=[1]'],
      schema,
    ),
    { command: ['echo', 'a b'], labels: { a: 'b' }, shell: '["x"]', tail: 50, env: { A: '1' }, other: '[1]' },
  );
  // A value of the other JSON shape, or not JSON at all, stays the string given.
  assert.deepEqual(paramsOf(['command={"a":1}', 'labels=[1]', 'tail=x'], schema), {
    command: '{"a":1}',
    labels: '[1]',
    tail: 'x',
  });
  assert.deepEqual(paramsOf(['command=7', 'labels=null'], schema), { command: '7', labels: 'null' });
  assert.deepEqual(paramsOf(['command=echo [a'], schema), { command: 'echo [a' });
  assert.throws(() => paramsOf(['novalue'], schema), /DVM_USAGE|not KEY=VALUE/);
});

test('paramsOf: a key given twice with two values is DVM_USAGE (the same value twice is fine)', () => {
  const schema = { type: 'object', properties: { replicas: { type: 'integer' } } };
  assert.throws(
    () => paramsOf(['replicas=20', 'replicas=5'], schema),
    (e: Error & { code?: string }) =>
      e.code === 'DVM_USAGE' && e.message === '--param replicas is given twice: 20 and 5',
  );
  assert.deepEqual(paramsOf(['replicas=5', 'replicas=5'], schema), { replicas: 5 });
});
