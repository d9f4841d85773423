import { createHash } from 'node:crypto';
import { stableStringify } from '../../service/stable-json.ts';

/** SHA-256 (hex) of the canonical JSON of a value: equal payloads give equal hashes whatever their key order. */
export function canonicalHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}
