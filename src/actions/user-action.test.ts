import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DvmError } from '../errors/dvm-error.ts';
import type { ResourceObject } from '../model/api.ts';
import { ActionRegistry } from './registry.ts';
import { tempDir, testContext } from './testing.ts';
import { type ActionInputSpec, actionFromObject, renderCommand } from './user-action.ts';

const dir = tempDir();
after(() => dir.remove());

function actionObject(
  name: string,
  command: string[] | undefined,
  inputs: ActionInputSpec[],
  extra: Record<string, unknown> = {},
): ResourceObject {
  return {
    apiVersion: 'devopsmaestro.io/v1',
    kind: 'Action',
    metadata: { name },
    spec: { description: `test action ${name}`, ...(command ? { command } : {}), inputs, ...extra },
  };
}

const echo = actionFromObject(
  actionObject(
    'echo-args',
    ['printf', '[%s]', '{{ inputs.x }}', '{{inputs.count}}', '--flag={{ inputs.flag }}', '{{ inputs.data }}'],
    [
      { name: 'x', type: 'string', required: true },
      { name: 'count', type: 'integer', default: 3 },
      { name: 'flag', type: 'boolean' },
      { name: 'data', type: 'object' },
    ],
  ),
);

test('the definition comes from the Action object', () => {
  assert.equal(echo.name, 'echo-args');
  assert.equal(echo.version, '1.0.0');
  assert.equal(echo.risk, 'write');
  assert.equal(echo.description, 'test action echo-args');
  assert.deepEqual(echo.inputSchema, {
    type: 'object',
    additionalProperties: false,
    properties: {
      x: { type: 'string' },
      count: { type: 'integer', default: 3 },
      flag: { type: 'boolean' },
      data: { type: 'object' },
    },
    required: ['x'],
  });
  assert.equal(actionFromObject(actionObject('r', ['true'], [], { risk: 'read' })).risk, 'read');
});

test('a hostile value arrives as one literal argv element, never through a shell', async () => {
  const marker = join(dir.path, 'pwned');
  const hostile = `; rm -rf / && echo $HOME \`touch ${marker}\` $(touch ${marker}) '"{{ inputs.count }}`;
  const registry = new ActionRegistry().register(echo);
  const input = registry.validateInput(echo, { x: hostile, flag: true, data: { a: [1, 'b'] } });
  const context = testContext({ workdir: dir.path });
  const output = await echo.handler(input, context);
  assert.equal(output.exitCode, 0);
  assert.equal(context.log.text(), `[${hostile}][3][--flag=true][{"a":[1,"b"]}]`);
  assert.equal(existsSync(marker), false);
});

test('the Action from the task-level example: printf %s {{ inputs.x }}', async () => {
  const action = actionFromObject(
    actionObject('show', ['printf', '%s', '{{ inputs.x }}'], [{ name: 'x', type: 'string' }]),
  );
  const context = testContext();
  await action.handler({ x: '; rm -rf / && echo $HOME' }, context);
  assert.equal(context.log.text(), '; rm -rf / && echo $HOME');
});

test('renderCommand: whole and embedded placeholders, absent inputs, lists and numbers', () => {
  const declared = new Set(['a', 'n', 'list', 'missing']);
  assert.deepEqual(
    renderCommand(
      [
        'tool',
        '{{inputs.a}}',
        'pre-{{ inputs.n }}-{{ inputs.a }}',
        '{{   inputs.list   }}',
        '{{ inputs.missing }}',
      ],
      { a: 'x y', n: 1.5, list: ['p', 2] },
      declared,
    ),
    ['tool', 'x y', 'pre-1.5-x y', '["p",2]', ''],
  );
});

test('unknown placeholders are DVM_ACTION_INPUT_INVALID, every one of them', async () => {
  const action = actionFromObject(
    actionObject(
      'bad',
      ['echo', '{{ inputs.nope }}', '{{ .table }}', '{{ inputs.ok }}'],
      [{ name: 'ok', type: 'string' }],
    ),
  );
  await assert.rejects(action.handler({ ok: 'x' }, testContext()), (e: unknown) => {
    assert.ok(e instanceof DvmError);
    assert.equal(e.code, 'DVM_ACTION_INPUT_INVALID');
    assert.deepEqual(
      e.causes.map((c) => [c.path, c.message]),
      [
        ['spec.command[1]', '{{ inputs.nope }} names no input of Action bad'],
        ['spec.command[2]', '{{ .table }} is not a placeholder dvm knows (only {{ inputs.NAME }})'],
      ],
    );
    assert.ok(e.fix);
    return true;
  });
});

test('inputs are validated with the schema built from spec.inputs', () => {
  const registry = new ActionRegistry().register(echo);
  assert.throws(
    () => registry.validateInput(echo, { count: 'three', extra: 1 }),
    (e: unknown) =>
      e instanceof DvmError &&
      e.code === 'DVM_ACTION_INPUT_INVALID' &&
      e.causes
        .map((c) => `${c.path}: ${c.message}`)
        .sort()
        .join('\n') ===
        [
          'count: must be an integer, not a string',
          'extra: is not an input of echo-args',
          'x: is required',
        ].join('\n'),
  );
});

test('an Action without a command (handlers only) fails when run, with a fix', async () => {
  const action = actionFromObject(
    actionObject('data.insert', undefined, [{ name: 'target', type: 'string', required: true }], {
      handlers: { postgres: { type: 'sql', template: 'INSERT …' } },
    }),
  );
  await assert.rejects(
    action.handler({ target: 'db' }, testContext()),
    (e: unknown) =>
      e instanceof DvmError &&
      e.code === 'DVM_SCHEMA_INVALID' &&
      /no spec\.command/.test(e.message) &&
      Boolean(e.fix),
  );
});

test('a failing user action fails like exec', async () => {
  const action = actionFromObject(actionObject('fails', ['sh', '-c', 'exit 4'], []));
  await assert.rejects(
    action.handler({}, testContext()),
    (e: unknown) => e instanceof DvmError && e.code === 'DVM_TASK_FAILED' && e.details.exitCode === 4,
  );
});
