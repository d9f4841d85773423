import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { BUSY_GRACE_MS, ConnectionGate, MAX_REFUSED_WAITING } from './connection-limits.ts';

// A stand-in for a TCP socket: closes when destroyed; `busy` sets the response in progress, as Node's server does.
function fakeSocket(busy = false): Socket & { destroyed: boolean; _httpMessage?: unknown } {
  const socket = new EventEmitter() as unknown as Socket & { destroyed: boolean; _httpMessage?: unknown };
  socket.destroyed = false;
  socket._httpMessage = busy ? {} : null;
  socket.destroy = () => {
    socket.destroyed = true;
    socket.emit('close');
    return socket;
  };
  return socket;
}

function counting(limit: () => number) {
  const counts = { refused: 0, evicted: 0 };
  const gate = new ConnectionGate(
    limit,
    () => counts.refused++,
    () => counts.evicted++,
  );
  return { gate, counts };
}

test('at its limit a ConnectionGate closes the oldest idle connection for a new one; busy ones are never closed', () => {
  const { gate, counts } = counting(() => 2);
  const [older, busy, newer] = [fakeSocket(), fakeSocket(true), fakeSocket()];
  gate.admit(older);
  gate.admit(busy);
  gate.admit(newer);
  assert.deepEqual([older.destroyed, busy.destroyed, gate.open, counts.evicted], [true, false, 2, 1]);
  // The idle one now is the newer: the busy one stays, whatever its age.
  const last = fakeSocket();
  gate.admit(last);
  assert.deepEqual([busy.destroyed, newer.destroyed, gate.open, counts.evicted], [false, true, 2, 2]);
  assert.equal(counts.refused, 0);
});

test('the idle connection that gives way is the least recently used, not the first admitted', () => {
  const { gate, counts } = counting(() => 2);
  const [early, late] = [fakeSocket(), fakeSocket()];
  gate.admit(early);
  gate.admit(late);
  gate.used(early); // a request on the early one: the late one has been idle longer
  const next = fakeSocket();
  gate.admit(next);
  assert.deepEqual([early.destroyed, late.destroyed, counts.evicted], [false, true, 1]);
  // A request through the TLS socket over a connection counts for that connection.
  gate.used(early);
  gate.used({ _parent: next } as unknown as Socket);
  gate.admit(fakeSocket());
  assert.deepEqual([early.destroyed, next.destroyed], [true, false]);
});

test('under TLS the gate tells idle from busy by the TLS socket over each TCP one', () => {
  const { gate, counts } = counting(() => 1);
  const tcp = fakeSocket();
  gate.admit(tcp);
  // The TCP socket itself carries no request: the TLS socket over it does.
  gate.secured({ _parent: tcp, _httpMessage: {} } as unknown as Socket);
  const next = fakeSocket();
  gate.admit(next);
  assert.deepEqual([tcp.destroyed, counts.evicted, counts.refused], [false, 0, 1]);
  assert.equal(
    gate.refusal({ _parent: next } as unknown as Socket)?.code,
    'DVM_AGENT_BUSY',
    'the TLS socket over it',
  );
});

test('with every connection busy a new one is marked refused, cut if it sends nothing; the limit is read per connection', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let limit = 1;
  const { gate, counts } = counting(() => limit);
  const [held, over] = [fakeSocket(true), fakeSocket()];
  gate.admit(held);
  gate.admit(over);
  assert.deepEqual([gate.open, counts.refused], [1, 1]);
  assert.equal(gate.refusal(held), undefined);
  const busy = gate.refusal(over);
  assert.equal(busy?.code, 'DVM_AGENT_BUSY');
  assert.equal(busy?.httpStatus, 503);
  assert.deepEqual(busy?.details, { limit: 1 });

  t.mock.timers.tick(BUSY_GRACE_MS - 1);
  assert.equal(over.destroyed, false, 'it gets the time to send its request');
  t.mock.timers.tick(1);
  assert.equal(over.destroyed, true, 'then it is cut');
  assert.equal(held.destroyed, false);

  held.emit('close');
  assert.equal(gate.open, 0, 'a closed connection frees its place');
  limit = 2;
  const [a, b] = [fakeSocket(true), fakeSocket(true)];
  gate.admit(a);
  gate.admit(b);
  assert.deepEqual([gate.open, counts.refused], [2, 1], 'a raised limit counts from the next connection');
});

test('at most MAX_REFUSED_WAITING refused connections wait for their request: past them one is cut at once', () => {
  const { gate, counts } = counting(() => 1);
  gate.admit(fakeSocket(true));
  const waiting = Array.from({ length: MAX_REFUSED_WAITING }, () => fakeSocket());
  for (const socket of waiting) gate.admit(socket);
  assert.ok(waiting.every((socket) => !socket.destroyed));
  const past = fakeSocket();
  gate.admit(past);
  assert.equal(past.destroyed, true);
  assert.equal(counts.refused, MAX_REFUSED_WAITING + 1);
  for (const socket of waiting) socket.destroy();
});
