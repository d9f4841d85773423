import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeadingContext } from './leading-context.ts';

test('the lines above a tail open a value for the lines below them: a key in pieces is read whole, the other stream waits with it, and the first line that is no part of it ends the hiding', () => {
  const context = new LeadingContext();
  // `password:` in two pieces (a line longer than the line cap), on stderr.
  context.context(`${'x'.repeat(300)}pas`, 'first', 'E ');
  context.context('sword:', 'last', 'E ');
  assert.equal(
    context.hides('interleaved', 'whole', 'O '),
    true,
    'the other stream, while the value is pending',
  );
  assert.equal(context.hides('hunter2', 'whole', 'E '), true, 'its value');
  assert.equal(context.hides('after', 'whole', 'E '), false);
  assert.equal(context.hides('  more', 'whole', 'E '), false, 'nothing after the first line that is not');

  const block = new LeadingContext();
  block.context('token: |');
  block.context('  line-1');
  assert.equal(block.hides('  line-2'), true);
  // A line of the block in pieces: all its pieces go.
  assert.equal(block.hides(`  ${'y'.repeat(300)}`, 'first'), true);
  assert.equal(block.hides('yyy', 'last'), true);
  assert.equal(block.hides('next: 1'), false);

  const plain = new LeadingContext();
  plain.context('starting');
  assert.equal(plain.hides('  indented'), false, 'nothing opened, nothing hidden');
});
