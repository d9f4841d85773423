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
