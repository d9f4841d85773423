import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

test('agent commands print the -o they name (policy list/validate as JSON too) and refuse one they do not print', () => {
  const home = tempHome();
  const list = JSON.parse(dvmOk(home, ['policy', 'list', '-o', 'json']).stdout);
  const rbac = list.items.find((p: { id: string }) => p.id === 'rbac-read');
  assert.deepEqual(
    [rbac.effect, rbac.gate, typeof rbac.file, typeof rbac.line],
    ['permit', null, 'string', 'number'],
  );
  assert.ok(list.items.some((p: { gate: string | null }) => p.gate === 'confirmation'));
  const valid = JSON.parse(dvmOk(home, ['policy', 'validate', '-o', 'json']).stdout);
  assert.deepEqual([valid.valid, valid.policies], [true, list.items.length]);

  for (const [args, message] of [
    [['policy', 'list', '-o', 'yaml'], /DVM_USAGE: dvm policy list prints table or json, not -o yaml/],
    [
      ['action', 'describe', 'docker.logs', '-o', 'yaml'],
      /dvm action describe prints table or json, not -o yaml/,
    ],
    [['action', 'list', '-o', 'wide'], /dvm action list prints table or json, not -o wide/],
    [['audit', 'verify', '-o', 'yaml'], /dvm audit verify prints text or json, not -o yaml/],
    [['token', 'list', '-o', 'yaml'], /dvm token list prints table or json, not -o yaml/],
    [['execution', 'list', '-o', 'yaml'], /dvm execution list prints table or json, not -o yaml/],
    [['action', 'run', 'system.info', '-o', 'name'], /dvm action run prints table or json, not -o name/],
    [['policy', 'list', '--principal', 'x'], /--principal is a flag of dvm policy test, not of policy list/],
  ] as const) {
    const run = dvm(home, [...args]);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
});
