import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPath, parsePath } from './path.ts';

test('parsePath reads back what formatPath writes', () => {
  for (const segments of [
    ['agent', 'alerts', 0, 'notify'],
    ['spec', 'tasks', 12, 'dependsOn', 3],
    ['metadata'],
    [0],
  ]) {
    const text = formatPath(segments);
    assert.deepEqual(parsePath(text), segments, text);
  }
  assert.equal(formatPath(['agent', 'alerts', 0, 'notify']), 'agent.alerts[0].notify');
});
