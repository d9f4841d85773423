import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractDag, extractReferences } from './references.ts';

test('workflow entries without a name are named after their task reference', () => {
  const dag = extractDag('Workflow', {
    tasks: [
      { ref: 'lint-code' },
      { ref: 'run-tests', dependsOn: ['lint-code'] },
      { name: 'b', taskRef: 'build' },
    ],
  });
  assert.deepEqual(dag?.nodes, [
    { name: 'lint-code', dependsOn: [] },
    { name: 'run-tests', dependsOn: ['lint-code'] },
    { name: 'b', dependsOn: [] },
  ]);
});

test('references of a task default the action to exec and include callbacks', () => {
  const refs = extractReferences('Task', {
    command: 'make',
    onFailure: { action: 'notify.alert', severity: 'high' },
  });
  assert.deepEqual(refs, [
    { type: 'action', name: 'exec', path: ['spec', 'action'] },
    { type: 'action', name: 'notify.alert', path: ['spec', 'onFailure', 'action'] },
  ]);
});

test('dependency entries: name + ref creates an instance, ref alone uses one', () => {
  const refs = extractReferences('App', {
    dependencies: [{ ref: 'platform-db' }, { name: 'test-db', ref: 'postgres' }],
  });
  assert.deepEqual(refs, [
    {
      type: 'dependency',
      name: 'platform-db',
      instance: undefined,
      path: ['spec', 'dependencies', 0, 'ref'],
    },
    { type: 'dependency', name: 'postgres', instance: 'test-db', path: ['spec', 'dependencies', 1, 'ref'] },
  ]);
});

test('kinds without reference rules have none', () => {
  assert.deepEqual(extractReferences('Volume', { size: '10Gi' }), []);
  assert.equal(extractDag('Task', {}), undefined);
});
