import { DvmError } from '../../../errors/dvm-error.ts';
import { DURATION_PATTERN } from '../../../model/patterns.ts';
import { parseDuration } from '../duration.ts';

/** The forms docker.logs takes for `since`, as its schema and its errors name them. */
export const SINCE_FORMS =
  'a duration back from now (10m, 1h30m), an RFC 3339 time with its offset (2026-11-30T10:00:00Z) or Unix seconds (1700000000, 1700000000.5)';

/**
 * The shapes of `since` for docker.logs' input schema (a duration, Unix seconds, an RFC 3339 time with its offset),
 * so a dry run refuses a bad one too; days and hours that do not exist are caught when it runs.
 */
export const SINCE_PATTERN =
  '^(?:([0-9]+(ms|s|m|h|d))+|[0-9]+([.][0-9]{1,9})?|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2}))$';

const DURATION = new RegExp(DURATION_PATTERN);
// Docker reads an all-digit value as Unix seconds, with at most nanoseconds after the point.
const UNIX_SECONDS = /^([0-9]+)(?:\.([0-9]{1,9}))?$/;
// RFC 3339 date-time (seconds optional, as ISO 8601 allows): a time without an offset would be read in the
// agent's zone, which the caller cannot know, so the offset is required.
const RFC3339 =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$/;
// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const MAX_SECONDS = 253_402_300_799;

function refused(since: string, why: string): DvmError {
  return new DvmError('DVM_ACTION_INPUT_INVALID', `since ${JSON.stringify(since)} ${why}`, {
    fix: `Give since as ${SINCE_FORMS}.`,
    path: 'since',
    details: { origin: 'user' },
  });
}

// Whole seconds (and their digits after the point) as the Docker Engine API reads `since`; before the epoch is 0.
function docker(seconds: number, fraction = ''): string {
  if (seconds < 0) return '0';
  return /[1-9]/.test(fraction) ? `${seconds}.${fraction}` : String(seconds);
}

// Seconds since the epoch of an RFC 3339 time's parts, or undefined for a day, hour or offset that does not exist.
function rfc3339Seconds(parts: string[]): number | undefined {
  const [year, month, day, hour, minute, second = '0', , zulu, sign, offsetHour, offsetMinute] = parts;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number);
  // setUTCFullYear, not Date.UTC: that one reads the years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d)
    return undefined;
  // No leap second 60: Docker's parser (Go's time.Parse) refuses it too.
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const midnight = date.getTime();
  let offset = 0;
  if (!zulu) {
    const [oh, om] = [Number(offsetHour), Number(offsetMinute)];
    if (oh > 23 || om > 59) return undefined;
    offset = (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60;
  }
  return midnight / 1000 + h * 3600 + mi * 60 + s - offset;
}

/**
 * docker.logs' `since` as the Docker Engine API takes it (Unix seconds, with a fraction when there is one), read
 * as `docker logs --since` reads it: a duration back from `now`, an RFC 3339 time, or Unix seconds (an all-digit
 * value, so `10` is ten seconds after the epoch, not a date). Anything else is DVM_ACTION_INPUT_INVALID on `since`.
 */
export function dockerSince(since: string, now = Date.now()): string {
  const unix = UNIX_SECONDS.exec(since);
  if (unix) {
    if (Number(unix[1]) > MAX_SECONDS) throw refused(since, 'is past the year 9999');
    return docker(Number(unix[1]), unix[2]);
  }
  if (DURATION.test(since)) {
    let back: number;
    try {
      back = parseDuration(since);
    } catch {
      // The pattern matched: what parseDuration refuses is a duration past its bound.
      throw refused(since, 'is longer than 100 years');
    }
    const ms = now - back;
    return docker(Math.floor(ms / 1000), String(((ms % 1000) + 1000) % 1000).padStart(3, '0'));
  }
  const time = RFC3339.exec(since);
  if (time) {
    const seconds = rfc3339Seconds(time.slice(1));
    if (seconds === undefined) throw refused(since, 'is not a time that exists');
    return docker(seconds, time[7]);
  }
  throw refused(since, 'is neither a duration, an RFC 3339 time nor Unix seconds');
}
