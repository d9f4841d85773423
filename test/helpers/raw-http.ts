import type { Socket } from 'node:net';

/** An HTTP answer as it came over a raw connection. */
export type RawAnswer = { status: number; headers: string; body: string };

/**
 * Raw HTTP/1.1 over an open socket, one request at a time (keep-alive): `send` writes a request's text and answers its
 * response (status line and headers, then content-length bytes of body), or rejects when the server closes the
 * connection first; `closed` settles when it does.
 */
export function rawExchange(socket: Socket): {
  send(text: string): Promise<RawAnswer>;
  closed: Promise<void>;
} {
  let received = Buffer.alloc(0);
  let waiting: { got: (answer: RawAnswer) => void; failed: (error: Error) => void } | undefined;
  let isClosed = false;
  const closed = new Promise<void>((done) =>
    socket.once('close', () => {
      isClosed = true;
      waiting?.failed(new Error('the server closed the connection'));
      done();
    }),
  );
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf('\r\n\r\n');
    if (!waiting || end < 0) return;
    const headers = received.subarray(0, end).toString();
    const length = Number(/^content-length: (\d+)/im.exec(headers)?.[1] ?? 0);
    if (received.length < end + 4 + length) return;
    const body = received.subarray(end + 4, end + 4 + length).toString();
    received = received.subarray(end + 4 + length);
    const { got } = waiting;
    waiting = undefined;
    got({ status: Number(headers.split(' ')[1]), headers, body });
  });
  return {
    send: (text) =>
      new Promise<RawAnswer>((got, failed) => {
        if (isClosed) return failed(new Error('the connection is closed'));
        waiting = { got, failed };
        socket.write(text);
      }),
    closed,
  };
}
