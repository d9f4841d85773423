import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogOptions } from './types.ts';

function readFrom(path: string, from: number): { text: string; size: number } {
  if (!existsSync(path)) return { text: '', size: 0 };
  const size = statSync(path).size;
  if (size <= from) return { text: '', size };
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(size - from);
    readSync(fd, buffer, 0, buffer.length, from);
    return { text: buffer.toString('utf8'), size };
  } finally {
    closeSync(fd);
  }
}

/** Lines of a log file: all or the last `tail`, then (with follow) new lines as they are written, until aborted. */
export async function* followFile(path: string, options: LogOptions): AsyncGenerator<string> {
  let { text, size } = readFrom(path, 0);
  let lines = text.split('\n');
  let partial = lines.pop() ?? '';
  if (options.tail !== undefined) lines = options.tail === 0 ? [] : lines.slice(-options.tail);
  for (const line of lines) yield line;
  if (!options.follow) {
    if (partial) yield partial;
    return;
  }
  while (!options.signal?.aborted) {
    try {
      await sleep(150, undefined, { signal: options.signal });
    } catch {
      break;
    }
    const next = readFrom(path, size);
    if (next.size < size) size = 0; // truncated or replaced: start over
    if (!next.text) continue;
    size = next.size;
    const chunk = (partial + next.text).split('\n');
    partial = chunk.pop() ?? '';
    for (const line of chunk) yield line;
  }
}
