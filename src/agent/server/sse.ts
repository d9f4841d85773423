import type { ServerResponse } from 'node:http';
import { DvmError } from '../../errors/dvm-error.ts';
import type { ExecutionEvent } from '../execute/executions.ts';
import { AGENT_HEADER, AGENT_HEADER_VALUE } from './agent-header.ts';

/** How often an idle stream gets a comment line, so proxies keep it open. */
export const SSE_HEARTBEAT_MS = 15_000;

/** Writes the headers of a Server-Sent Events stream. */
export function openEventStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    [AGENT_HEADER]: AGENT_HEADER_VALUE,
  });
  res.write('retry: 1000\n\n');
}

// Each event is framed once however many streams send it: the streams share the text (no JSON per client, one
// copy in memory while it waits in their buffers).
const framed = new WeakMap<ExecutionEvent, string>();

/** One event in SSE framing: `id`, `event` and one `data` line of JSON (JSON never contains a raw newline). */
export function frameEvent(event: ExecutionEvent): string {
  let text = framed.get(event);
  if (text === undefined) {
    text = `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify({ ...event.data, at: event.at })}\n\n`;
    framed.set(event, text);
  }
  return text;
}

/**
 * The last event of a stream cut short (`event: closed`, the error's JSON as data, no id): why it ends before the
 * execution does, so a client can tell a revoked token or a stopping agent from a dropped connection.
 */
export function closedEvent(why: DvmError): string {
  return `event: closed\ndata: ${JSON.stringify(why.toJSON())}\n\n`;
}

const EVENT_ID = /^\d{1,15}$/;

/**
 * The event id to resume after, from `Last-Event-ID` (or `?last_event_id=`); 0 for the start (also when empty).
 * Event ids are decimal integers, and EventSource clients send back the last one verbatim: anything else is
 * DVM_EVENT_ID_INVALID, never a guess (a replay from the start, or from a misread id).
 */
export function resumeAfter(header: string | string[] | undefined, query: unknown): number {
  const raw = Array.isArray(header) ? header[0] : header;
  const value = raw ?? (query as { last_event_id?: unknown } | undefined)?.last_event_id;
  if (value === undefined || value === '') return 0;
  if (typeof value === 'string' && EVENT_ID.test(value)) return Number(value);
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : 'given more than once';
  throw new DvmError(
    'DVM_EVENT_ID_INVALID',
    `Last-Event-ID ${shown} is not an event id (a decimal integer)`,
    {
      fix: 'Send back the id of the last event received (the `id:` line), or none to start from the beginning.',
      path: raw !== undefined ? 'Last-Event-ID' : 'last_event_id',
    },
  );
}

/**
 * Whether an event stream follows the execution until it ends (`?follow=true`, the default) or ends once the
 * events so far are sent (`?follow=false`); any other value is DVM_QUERY_INVALID.
 */
export function followOf(query: unknown): boolean {
  const value = (query as { follow?: unknown } | undefined)?.follow;
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : 'given more than once';
  throw new DvmError('DVM_QUERY_INVALID', `follow ${shown} is neither true nor false`, {
    fix: 'Pass follow=false for the events so far, or leave it out to stream until the execution ends.',
    path: 'follow',
  });
}
