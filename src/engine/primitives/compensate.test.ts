import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CompensableStep, CompensationError, compensate } from './compensate.ts';

const never = new AbortController().signal;

function saga(
  log: string[],
  options: { failAt?: string; failUndo?: string[]; onRun?: (name: string) => void },
) {
  return ['a', 'b', 'c', 'd'].map(
    (name): CompensableStep<string> => ({
      name,
      run: async () => {
        options.onRun?.(name);
        if (name === options.failAt) throw new Error(`${name} failed`);
        log.push(`run ${name}`);
        return `${name}-result`;
      },
      undo: async (result, signal) => {
        log.push(`undo ${result}${signal.aborted ? ' (aborted signal)' : ''}`);
        if (options.failUndo?.includes(name)) throw new Error(`undo ${name} failed`);
      },
    }),
  );
}

test('a saga that succeeds returns every result and undoes nothing', async () => {
  const log: string[] = [];
  assert.deepEqual(await compensate(saga(log, {}))(never), ['a-result', 'b-result', 'c-result', 'd-result']);
  assert.deepEqual(log, ['run a', 'run b', 'run c', 'run d']);
});

test('a failure undoes the completed steps in reverse order and rejects with a CompensationError', async () => {
  const log: string[] = [];
  await assert.rejects(compensate(saga(log, { failAt: 'c' }))(never), (e) => {
    assert.ok(e instanceof CompensationError);
    assert.equal(e.name, 'CompensationError');
    assert.equal((e.cause as Error).message, 'c failed');
    assert.deepEqual(e.undoErrors, []);
    assert.match(e.message, /"c" failed; undid 2/);
    return true;
  });
  assert.deepEqual(log, ['run a', 'run b', 'undo b-result', 'undo a-result']);
});

test('failing undo steps are collected and do not stop the other undos', async () => {
  const log: string[] = [];
  await assert.rejects(compensate(saga(log, { failAt: 'd', failUndo: ['c', 'a'] }))(never), (e) => {
    assert.ok(e instanceof CompensationError);
    assert.deepEqual(
      e.undoErrors.map((u) => (u as Error).message),
      ['undo c failed', 'undo a failed'],
    );
    return true;
  });
  assert.deepEqual(log, ['run a', 'run b', 'run c', 'undo c-result', 'undo b-result', 'undo a-result']);
});

test('an abort mid-way stops the saga and the undos still get a live signal', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const log: string[] = [];
  const steps = saga(log, {
    onRun: (name) => {
      if (name === 'c') controller.abort(reason);
    },
  });
  await assert.rejects(compensate(steps)(controller.signal), (e) => {
    assert.ok(e instanceof CompensationError);
    assert.equal(e.cause, reason);
    return true;
  });
  assert.deepEqual(log, ['run a', 'run b', 'run c', 'undo c-result', 'undo b-result', 'undo a-result']);
});

test('a step stopped by the abort has the abort as the cause, whatever it threw', async () => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const log: string[] = [];
  const steps = saga(log, {
    onRun: (name) => {
      if (name !== 'b') return;
      controller.abort(reason);
      throw new Error('interrupted');
    },
  });
  await assert.rejects(compensate(steps)(controller.signal), (e) => {
    assert.ok(e instanceof CompensationError);
    assert.equal(e.cause, reason);
    return true;
  });
  assert.deepEqual(log, ['run a', 'undo a-result']);
});

test('a saga of steps with different results types them position for position, each undo given its own', async () => {
  const undone: unknown[] = [];
  const vm: CompensableStep<{ id: number }> = {
    run: async () => ({ id: 7 }),
    undo: async (created) => void undone.push(created.id),
  };
  const saga = compensate([
    vm,
    { run: async () => 'dns-record', undo: async (record: string) => void undone.push(record) },
  ]);
  const results: [{ id: number }, string] = await saga(never);
  assert.deepEqual(results, [{ id: 7 }, 'dns-record']);
  const failing = compensate([
    vm,
    { run: async (): Promise<string> => Promise.reject(new Error('no')), undo: async (s: string) => void s },
  ]);
  await assert.rejects(failing(never), CompensationError);
  assert.deepEqual(undone, [7]);
});
