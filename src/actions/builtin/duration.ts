import { DvmError } from '../../errors/dvm-error.ts';
import { DURATION_PATTERN } from '../../model/patterns.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = new RegExp(DURATION_PATTERN);
const PART = /([0-9]+)(ms|s|m|h|d)/g;

/** The longest duration dvm takes (100 years): past it, times and timers stop being representable. */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/**
 * Milliseconds of a duration like `500ms`, `30s`, `5m`, `1h30m` or `7d` (the Duration pattern of the schemas), at
 * most MAX_DURATION_MS.
 */
export function parseDuration(text: string): number {
  if (typeof text !== 'string' || !WHOLE.test(text)) {
    throw new DvmError('DVM_SCHEMA_INVALID', `${JSON.stringify(text)} is not a duration`, {
      fix: 'Write a duration as numbers with units ms, s, m, h or d, like 500ms, 30s, 5m, 1h30m or 7d.',
      details: { origin: 'user' },
    });
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit];
  if (!(ms <= MAX_DURATION_MS)) {
    throw new DvmError(
      'DVM_SCHEMA_INVALID',
      `${JSON.stringify(text.slice(0, 40))} is longer than 100 years`,
      {
        fix: 'Write a duration of at most 100 years (36500d).',
        details: { origin: 'user' },
      },
    );
  }
  return ms;
}
