import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openAgent } from '../agent.ts';
import { createAgentServer } from './create-server.ts';

// Sends raw bytes on a fresh connection and returns everything the server wrote before it closed.
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
    socket.write(text);
  });
}

test('requests the HTTP parser refuses are answered in the error shape, then the connection closes', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-client-errors-'));
  const agent = await openAgent(home);
  const app = createAgentServer(agent);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    for (const [text, status, code] of [
      ['GARBAGE\r\n\r\n', 400, 'DVM_REQUEST_MALFORMED'],
      ['GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'DVM_REQUEST_MALFORMED'],
      [
        `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'DVM_HEADERS_TOO_LARGE',
      ],
      // HTTP/1.1 without Host (RFC 9112: 400), and a CONNECT (the agent is no proxy): Node said nothing of its own.
      ['GET /v1/health HTTP/1.1\r\n\r\n', 400, 'DVM_REQUEST_MALFORMED'],
      ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n', 400, 'DVM_REQUEST_MALFORMED'],
    ] as const) {
      const answer = await raw(port, text);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), answer);
      assert.match(answer, /\r\nconnection: close\r\n/i);
      assert.match(answer, /\r\ndvm-agent: v1\r\n/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      assert.equal(body.code, code, answer);
      assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'message', 'reason']);
    }
  } finally {
    await app.close();
    await agent.close();
    rmSync(home, { recursive: true, force: true });
  }
});
