import type { ExecuteRequest } from './types.ts';

// `,` and `=` separate the pairs; `%` starts an escape. Inside a key or value they are written %2C, %3D and %25,
// so `{cluster: "eu,zone=a"}` never reads like two pairs.
const escapeSeparators = (text: string) =>
  text.replace(/[%,=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A target as one line for audit entries: `env=prod,namespace=web` (separators inside keys and values escaped). */
export function targetText(target: ExecuteRequest['target']): string {
  return Object.entries(target)
    .map(
      ([k, v]) => `${escapeSeparators(k)}=${escapeSeparators(typeof v === 'string' ? v : JSON.stringify(v))}`,
    )
    .join(',');
}
