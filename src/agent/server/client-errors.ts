import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { DvmError } from '../../errors/dvm-error.ts';
import { AGENT_HEADER, AGENT_HEADER_VALUE } from './agent-header.ts';

/** What a request that cannot even be parsed is answered with: a coded error like every other. */
export function clientErrorOf(error: NodeJS.ErrnoException): DvmError {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return new DvmError('DVM_HEADERS_TOO_LARGE', 'the request headers are larger than the server reads', {
      fix: 'Send fewer or smaller headers (a bearer token and Content-Type are all the API needs).',
    });
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new DvmError('DVM_REQUEST_TIMEOUT', 'the request did not arrive in time', {
      fix: 'Send the whole request at once; the server does not wait for a slow one.',
    });
  }
  return new DvmError(
    'DVM_REQUEST_MALFORMED',
    `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`,
    {
      fix: 'Send a well-formed HTTP request (an HTTP client library does).',
      details: { parser: error.code ?? null },
    },
  );
}

/**
 * Answers a request the HTTP parser refused (malformed, headers too large, too slow) in our error shape, then closes
 * the connection, as Node's default does; a connection already gone gets nothing.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  answerAndClose(socket, clientErrorOf(error));
}

/**
 * Answers a `CONNECT` (which asks a proxy for a tunnel; this is none) in the error shape and closes the connection:
 * Node would drop it without a word.
 */
export function answerConnect(socket: Socket): void {
  answerAndClose(
    socket,
    new DvmError('DVM_REQUEST_MALFORMED', 'CONNECT is not served: the agent API is not a proxy', {
      fix: 'Send the API requests themselves (GET, POST) to the agent.',
      details: { parser: 'CONNECT' },
    }),
  );
}

// Writes an error answer straight to the connection, then closes it.
function answerAndClose(socket: Socket, dvmError: DvmError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(dvmError.toJSON());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${dvmError.httpStatus} ${STATUS_CODES[dvmError.httpStatus]}\r\nConnection: close\r\n${AGENT_HEADER}: ${AGENT_HEADER_VALUE}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
