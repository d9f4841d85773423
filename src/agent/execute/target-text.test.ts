import assert from 'node:assert/strict';
import { test } from 'node:test';
import { targetText } from './target-text.ts';

test('a target is one line of key=value pairs; separators inside a key or value are escaped', () => {
  assert.equal(targetText({ env: 'prod', namespace: 'web' }), 'env=prod,namespace=web');
  const tricky = targetText({ env: 'dev', cluster: 'eu,zone=a' });
  assert.equal(tricky, 'env=dev,cluster=eu%2Czone%3Da');
  assert.notEqual(tricky, targetText({ env: 'dev', cluster: 'eu', zone: 'a' }));
  assert.equal(targetText({ env: '100%', replicas: 3 } as never), 'env=100%25,replicas=3');
});
