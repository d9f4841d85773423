import type { Artifact } from './action.ts';

/** Default cap of a read action's artifact: 1 MiB. */
export const DEFAULT_ARTIFACT_MAX_BYTES = 1024 * 1024;

/** Default run time of an action without its own `timeouts`. */
export const DEFAULT_ACTION_TIMEOUTS = { defaultMs: 30_000, maxMs: 300_000 } as const;

/**
 * Keeps the last `maxBytes` of `text` (the end of a log or dump is what matters) as an artifact, cut on a
 * character boundary, with the byte counts. `keep: 'head'` keeps the beginning instead.
 */
export function artifactOf(
  text: string | Uint8Array,
  maxBytes = DEFAULT_ARTIFACT_MAX_BYTES,
  options: { contentType?: string; keep?: 'head' | 'tail' } = {},
): Artifact {
  const bytes = typeof text === 'string' ? Buffer.from(text) : Buffer.from(text);
  const totalBytes = bytes.byteLength;
  const contentType = options.contentType ?? 'text/plain; charset=utf-8';
  if (totalBytes <= maxBytes) {
    return { contentType, content: bytes.toString('utf8'), bytes: totalBytes, totalBytes, truncated: false };
  }
  let kept =
    options.keep === 'head'
      ? bytes.subarray(0, maxBytes)
      : bytes.subarray(totalBytes - Math.max(0, maxBytes));
  // Drop a split UTF-8 sequence at the cut.
  if (options.keep === 'head') {
    let end = kept.byteLength;
    while (end > 0 && (kept[end - 1] & 0xc0) === 0x80) end--;
    if (end > 0 && kept[end - 1] >= 0xc0) end--;
    else end = kept.byteLength;
    kept = kept.subarray(0, end);
  } else {
    let start = 0;
    while (start < kept.byteLength && (kept[start] & 0xc0) === 0x80) start++;
    kept = kept.subarray(start);
  }
  return { contentType, content: kept.toString('utf8'), bytes: kept.byteLength, totalBytes, truncated: true };
}

/**
 * The content type of a log whose lines say which stream they came from: each starts with `O ` (stdout) or `E `
 * (stderr). `dvm action run` prints such lines on the stream they came from, without the tag, as `docker logs` does.
 */
export const STREAM_TAGGED_LOG = 'text/x-dvm-stream-tagged-log; charset=utf-8';

/** Output schema of every read action: `{summary, artifact}`. */
export const READ_OUTPUT_SCHEMA = {
  type: 'object',
  required: ['summary', 'artifact'],
  properties: {
    summary: { type: 'object', description: 'What the action found, structured.' },
    artifact: {
      type: 'object',
      required: ['contentType', 'content', 'bytes', 'totalBytes', 'truncated'],
      description: 'The raw output, capped, with its byte counts.',
    },
  },
} as const;

/**
 * The tail of a stream of output lines, kept within a byte budget while it grows (a follow may run for an hour):
 * older lines are dropped once the kept ones pass `maxBytes`, and `artifact()` gives what artifactOf would give for
 * the whole output, with its total byte count.
 */
export class TailArtifact {
  readonly #maxBytes: number;
  readonly #kept: string[] = [];
  #head = 0;
  #keptBytes = 0;
  #totalBytes = 0;

  /** A tail that keeps about `maxBytes` of the most recent lines. */
  constructor(maxBytes = DEFAULT_ARTIFACT_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Adds one piece of output (a line with its newline). */
  push(text: string): void {
    const bytes = Buffer.byteLength(text);
    this.#kept.push(text);
    this.#keptBytes += bytes;
    this.#totalBytes += bytes;
    // Drop whole lines from the front while what remains still covers the budget.
    while (this.#head < this.#kept.length - 1) {
      const first = Buffer.byteLength(this.#kept[this.#head]);
      if (this.#keptBytes - first < this.#maxBytes) break;
      this.#keptBytes -= first;
      this.#kept[this.#head] = '';
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#kept.length) {
      this.#kept.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** The artifact of everything pushed: the last `maxBytes` on a character boundary, with the total byte count. */
  artifact(contentType?: string): Artifact {
    const tail = artifactOf(this.#kept.slice(this.#head).join(''), this.#maxBytes, {
      ...(contentType ? { contentType } : {}),
    });
    return { ...tail, totalBytes: this.#totalBytes, truncated: tail.bytes < this.#totalBytes };
  }
}
