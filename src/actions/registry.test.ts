import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DvmError } from '../errors/dvm-error.ts';
import { BUILTIN_ACTION_NAMES } from '../model/builtin-actions.ts';
import type { ActionDefinition } from './action.ts';
import { ActionRegistry, BUILTIN_ACTIONS, compareVersions, createBuiltinRegistry } from './registry.ts';

const BUILTINS = [
  'docker.logs',
  'docker.restart_container',
  'exec',
  'git.pull',
  'git.push',
  'jvm.status',
  'jvm.thread_dump',
  'k8s.events',
  'k8s.pod_logs',
  'k8s.scale_deployment',
  'notify.alert',
  'notify.slack',
  'notify.team',
  'system.info',
];

function fake(name: string, version: string, inputSchema: Record<string, unknown> = { type: 'object' }) {
  return {
    name,
    version,
    description: `fake ${name}`,
    risk: 'read',
    inputSchema,
    outputSchema: { type: 'object' },
    handler: async () => ({ version }),
  } satisfies ActionDefinition;
}

function invalid(check: (e: DvmError) => void) {
  return (e: unknown) => {
    assert.ok(e instanceof DvmError);
    assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID');
    assert.ok(e.fix);
    check(e);
    return true;
  };
}

test('the built-in registry has every built-in, listed sorted', () => {
  const registry = createBuiltinRegistry();
  assert.deepEqual(BUILTIN_ACTIONS, BUILTINS);
  assert.deepEqual(
    registry.list().map((d) => d.name),
    BUILTINS,
  );
  for (const def of registry.list()) {
    assert.equal(def.version, '1.0.0');
    assert.ok(def.description && def.inputSchema && def.outputSchema);
    assert.ok(['read', 'write', 'destructive'].includes(def.risk));
  }
  // Every implemented built-in is one the model accepts as a reference.
  for (const name of BUILTIN_ACTIONS) assert.ok(BUILTIN_ACTION_NAMES.has(name), name);
});

test('an unknown action is DVM_ACTION_UNKNOWN with a did-you-mean', () => {
  const registry = createBuiltinRegistry();
  assert.throws(
    () => registry.get('notify.slak'),
    (e: unknown) =>
      e instanceof DvmError &&
      e.code === 'DVM_ACTION_UNKNOWN' &&
      e.message === 'no action is named "notify.slak" (did you mean "notify.slack"?)' &&
      Boolean(e.fix?.includes('exec, git.pull')),
  );
});

test('get returns the latest version, or the one asked for', () => {
  const registry = new ActionRegistry();
  registry
    .register(fake('deploy', '1.2.0'))
    .register(fake('deploy', '1.10.0'))
    .register(fake('deploy', '1.9.3'));
  assert.equal(registry.get('deploy').version, '1.10.0');
  assert.equal(registry.get('deploy', '1.2.0').version, '1.2.0');
  assert.deepEqual(
    registry.list().map((d) => d.version),
    ['1.2.0', '1.9.3', '1.10.0'],
  );
  assert.throws(
    () => registry.get('deploy', '1.2.1'),
    (e: unknown) =>
      e instanceof DvmError && e.code === 'DVM_ACTION_UNKNOWN' && /has no version 1\.2\.1/.test(e.message),
  );
  assert.throws(() => registry.register(fake('deploy', '1.2.0')), /registered twice/);
  assert.ok(compareVersions('2.0.0', '10.0.0') < 0);
  assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
});

test('validateInput returns the input with defaults filled in', () => {
  const registry = createBuiltinRegistry();
  const input = { branch: 'main' };
  assert.equal(registry.validateInput(registry.get('git.push'), input), input);
  assert.deepEqual(input, { branch: 'main', remote: 'origin' });
  assert.deepEqual(registry.validateInput(registry.get('git.pull'), undefined), { remote: 'origin' });
});

test('validateInput reports every violation with its path', () => {
  const registry = createBuiltinRegistry();
  assert.throws(
    () =>
      registry.validateInput(registry.get('exec'), {
        command: 'make',
        env: [{ name: '1BAD', value: 'x' }, { value: 'y' }],
        timeout: 5,
        workdri: '.',
      }),
    invalid((e) => {
      const causes = e.causes.map((c) => `${c.path}: ${c.message}`).sort();
      assert.deepEqual(causes, [
        'env[0].name: "1BAD" is not a name of letters, digits and "_" (not starting with a digit)',
        'env[1].name: is required',
        'timeout: must be a string, not a number',
        'workdri: is not an input of exec (did you mean "workdir"?)',
      ]);
      assert.match(e.message, /input of action exec is not valid: 4 problems/);
      assert.ok(e.causes.every((c) => c.code === 'DVM_ACTION_INPUT_INVALID'));
    }),
  );
});

test('an env map key that is no variable name is one violation, not that and "property name must be valid"', () => {
  const registry = createBuiltinRegistry();
  assert.throws(
    () => registry.validateInput(registry.get('exec'), { command: ['true'], env: { 'BAD-NAME': 'x' } }),
    invalid((e) => {
      assert.deepEqual(
        e.causes.map((c) => `${c.path}: ${c.message}`),
        ['env: "BAD-NAME" is not a name of letters, digits and "_" (not starting with a digit)'],
      );
    }),
  );
});

test('one violation is named in the message itself', () => {
  const registry = createBuiltinRegistry();
  assert.throws(
    () => registry.validateInput(registry.get('git.push'), { remote: '--upload-pack=evil' }),
    invalid((e) => {
      assert.equal(
        e.message,
        'input of action git.push is not valid: remote "--upload-pack=evil" is not a name without spaces that does not start with "-"',
      );
      assert.equal(e.details.origin, 'user');
    }),
  );
});

test('each schema is compiled once and shared by registries', () => {
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false };
  const def = fake('count', '1.0.0', schema);
  const a = new ActionRegistry().register(def);
  const b = new ActionRegistry().register(def);
  assert.deepEqual(a.validateInput(def, { n: 1 }), { n: 1 });
  assert.throws(() => b.validateInput(def, { n: 1.5 }), /not valid: n must be an integer, not a number/);
});
