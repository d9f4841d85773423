import type { ServerResponse } from 'node:http';
import type { ExecutionEvent } from '../execute/executions.ts';

/** How often an idle stream gets a comment line, so proxies keep it open. */
export const SSE_HEARTBEAT_MS = 15_000;

/** Writes the headers of a Server-Sent Events stream. */
export function openEventStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 1000\n\n');
}

/** One event in SSE framing: `id`, `event` and one `data` line of JSON (JSON never contains a raw newline). */
export function frameEvent(event: ExecutionEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify({ ...event.data, at: event.at })}\n\n`;
}

/** The event id to resume after, from `Last-Event-ID` (or `?last_event_id=`); 0 for the start. */
export function resumeAfter(header: string | string[] | undefined, query: unknown): number {
  const raw = Array.isArray(header) ? header[0] : header;
  const fromQuery = (query as { last_event_id?: unknown } | undefined)?.last_event_id;
  const value = raw ?? (typeof fromQuery === 'string' ? fromQuery : undefined);
  const n = value === undefined ? 0 : Number.parseInt(value, 10);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
