import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { BUSY_GRACE_MS, ConnectionGate } from './connection-limits.ts';

// A stand-in for a TCP socket: closes when destroyed.
function fakeSocket(): Socket & { destroyed: boolean } {
  const socket = new EventEmitter() as unknown as Socket & { destroyed: boolean };
  socket.destroyed = false;
  socket.destroy = () => {
    socket.destroyed = true;
    socket.emit('close');
    return socket;
  };
  return socket;
}

test('a ConnectionGate counts connections up to its limit, marks the rest (a TLS one by its TCP socket), cuts a marked one that sends nothing, and reads the limit per connection', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let limit = 1;
  let refused = 0;
  const gate = new ConnectionGate(
    () => limit,
    () => refused++,
  );
  const [held, over] = [fakeSocket(), fakeSocket()];
  gate.admit(held);
  gate.admit(over);
  assert.deepEqual([gate.open, refused], [1, 1]);
  assert.equal(gate.refusal(held), undefined);
  const busy = gate.refusal(over);
  assert.equal(busy?.code, 'DVM_AGENT_BUSY');
  assert.equal(busy?.httpStatus, 503);
  assert.deepEqual(busy?.details, { limit: 1 });
  assert.equal(
    gate.refusal({ _parent: over } as unknown as Socket)?.code,
    'DVM_AGENT_BUSY',
    'the TLS socket over it',
  );

  t.mock.timers.tick(BUSY_GRACE_MS - 1);
  assert.equal(over.destroyed, false, 'it gets the time to send its request');
  t.mock.timers.tick(1);
  assert.equal(over.destroyed, true, 'then it is cut');
  assert.equal(held.destroyed, false);

  held.emit('close');
  assert.equal(gate.open, 0, 'a closed connection frees its place');
  limit = 2;
  const [a, b] = [fakeSocket(), fakeSocket()];
  gate.admit(a);
  gate.admit(b);
  assert.deepEqual([gate.open, refused], [2, 1], 'a raised limit counts from the next connection');
});
