/** One Server-Sent Event as received. */
export interface ReceivedEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * Parses an SSE byte stream into events (the WHATWG framing: `field: value` lines, blank line ends an event,
 * `:` comments ignored), yielding each event as soon as its blank line arrives.
 */
export async function* parseEventStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<ReceivedEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let current: { id?: string; event?: string; data: string[] } = { data: [] };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r?\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      if (line === '') {
        if (current.data.length > 0 || current.event) {
          yield { id: current.id, event: current.event ?? 'message', data: current.data.join('\n') };
        }
        current = { data: [] };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') current.data.push(value);
        else if (field === 'event') current.event = value;
        else if (field === 'id') current.id = value;
      }
      newline = buffer.search(/\r?\n/);
    }
  }
}
