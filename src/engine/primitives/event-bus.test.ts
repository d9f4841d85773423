import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEventBus } from './event-bus.ts';

type Event = { type: 'ping'; n: number } | { type: 'pong' };

test('every listener hears every event, in subscription order', () => {
  const bus = createEventBus<Event>();
  const heard: string[] = [];
  bus.on((e) => heard.push(`1:${e.type}`));
  bus.on((e) => heard.push(`2:${e.type}`));
  bus.emit({ type: 'ping', n: 1 });
  bus.emit({ type: 'pong' });
  assert.deepEqual(heard, ['1:ping', '2:ping', '1:pong', '2:pong']);
});

test('an unsubscribed listener hears nothing more, and unsubscribing twice is harmless', () => {
  const bus = createEventBus<Event>();
  const heard: string[] = [];
  const off = bus.on(() => heard.push('a'));
  const listener = () => heard.push('b');
  bus.on(listener);
  const offSecondB = bus.on(listener);
  bus.emit({ type: 'pong' });
  off();
  off();
  offSecondB();
  offSecondB();
  bus.emit({ type: 'pong' });
  assert.deepEqual(heard, ['a', 'b', 'b', 'b']);
});

test('a throwing listener neither breaks emit nor stops the others, and is reported', () => {
  const reported: [unknown, Event][] = [];
  const bus = createEventBus<Event>({ onListenerError: (error, event) => reported.push([error, event]) });
  const boom = new Error('boom');
  const heard: number[] = [];
  bus.on(() => {
    throw boom;
  });
  bus.on((e) => e.type === 'ping' && heard.push(e.n));
  const event: Event = { type: 'ping', n: 7 };
  bus.emit(event);
  assert.deepEqual(heard, [7]);
  assert.deepEqual(reported, [[boom, event]]);

  const quiet = createEventBus<Event>();
  quiet.on(() => {
    throw boom;
  });
  assert.doesNotThrow(() => quiet.emit({ type: 'pong' }));
});

test('subscribing or unsubscribing during emit takes effect from the next emit', () => {
  const bus = createEventBus<Event>();
  const heard: string[] = [];
  const offB = bus.on(() => {
    heard.push('a');
    offC();
    bus.on(() => heard.push('late'));
  });
  const offC = bus.on(() => heard.push('c'));
  bus.emit({ type: 'pong' });
  offB();
  bus.emit({ type: 'pong' });
  assert.deepEqual(heard, ['a', 'c', 'late']);
});
