import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openAgent } from '../agent.ts';
import { parseEventStream, type ReceivedEvent } from '../client/sse-client.ts';
import { createAgentServer } from './create-server.ts';

const EVENTS = 20_000;
const LINE = 'x'.repeat(1000);

test('a client that stops reading an event stream holds no copy of the log in the server: the rest waits in the execution, and it gets every event in order once it reads again', {
  timeout: 120_000,
}, async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-sse-slow-'));
  const agent = await openAgent(home);
  const app = createAgentServer(agent);
  const sockets: Socket[] = [];
  app.server.on('connection', (socket: Socket) => sockets.push(socket));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const { token } = agent.tokens.create('ops', 'admin');
    const id = 'xslowreader';
    await agent.executions.create({
      id,
      request_id: 'slow',
      principal: 'local',
      action: 'docker.logs',
      version: '1.0.0',
      env: 'dev',
      target: { env: 'dev' },
    });
    const open = (name: string) =>
      new Promise<IncomingMessage>((resolve, reject) =>
        get(
          `http://127.0.0.1:${port}/v1/executions/${id}/events`,
          { headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.pause();
            resolve(res);
          },
        ).on('error', (error) => reject(new Error(`${name}: ${error.message}`))),
      );
    const collect = async (res: IncomingMessage) => {
      const events: ReceivedEvent[] = [];
      for await (const event of parseEventStream(res as AsyncIterable<Uint8Array>)) events.push(event);
      return events;
    };
    const stalled = await open('stalled');
    const reading = collect(await open('reading'));

    // ~20 MB of events: far more than the kernel's socket buffers take for a reader that does not read.
    let maxUnsent = 0;
    for (let i = 0; i < EVENTS; i++) {
      agent.executions.emit(id, 'log', { stream: 'stdout', line: `${i} ${LINE}` });
      if (i % 500 === 0) {
        await sleep(1);
        for (const socket of sockets) maxUnsent = Math.max(maxUnsent, socket.writableLength);
      }
    }
    await sleep(50);
    for (const socket of sockets) maxUnsent = Math.max(maxUnsent, socket.writableLength);
    await agent.executions.finish(id, { status: 'succeeded', result: { lines: EVENTS } });
    assert.ok(
      maxUnsent < 256 * 1024,
      `a stalled stream buffered at most ${maxUnsent} bytes in the server (a copy of the log would be ~20 MB)`,
    );

    const late = await collect(stalled);
    for (const [name, events] of [
      ['the stalled reader', late],
      ['the reader that kept up', await reading],
    ] as const) {
      assert.equal(events.length, EVENTS + 2, `${name} got started, every log line and completed`);
      assert.deepEqual(
        events.map((e) => Number(e.id)),
        events.map((_, i) => i + 1),
        `${name} got them in order`,
      );
      assert.equal(events[0].event, 'started');
      assert.equal(JSON.parse(events[EVENTS].data).line, `${EVENTS - 1} ${LINE}`);
      assert.equal(events[EVENTS + 1].event, 'completed');
    }
  } finally {
    // A stream left unread would keep the server from closing.
    for (const socket of sockets) socket.destroy();
    await app.close();
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});
