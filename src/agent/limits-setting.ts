import { DvmError } from '../errors/dvm-error.ts';
import { DEFAULT_FOLLOW_LIMITS, type FollowLimits } from './execute/follow-limits.ts';
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './server/connection-limits.ts';
import type { RequestRate } from './server/rate-limit.ts';

/**
 * config.yaml `agent.limits`, read: the follows' limits, the connections (in all, and by one client address) and
 * event streams (in all, and by one principal) held open, and, when set, each principal's request rate.
 */
export interface AgentLimits extends ConnectionLimits {
  follows: FollowLimits;
  rate?: RequestRate;
}

/**
 * config.yaml `agent.limits` (its value, read by agentSettings): `{follows, follows_per_principal,
 * requests_per_second, request_burst, connections, connections_per_address, streams, streams_per_principal}`, each a
 * positive integer; the defaults for those left out, no request rate without `requests_per_second` (a burst defaults
 * to the rate), a follows' share cut to `follows`, a connections' share of all of them and a streams' share of half
 * of them by default. DVM_SCHEMA_INVALID (file, path) for anything else, and for a `connections_per_address` above `connections`
 * or a `streams_per_principal` above `streams`.
 */
export function limitsSetting(value: unknown, file: string): AgentLimits {
  const known =
    'follows, follows_per_principal, requests_per_second, request_burst, connections, connections_per_address, streams, streams_per_principal';
  const invalid = (path: string, message: string, fix?: string) =>
    new DvmError('DVM_SCHEMA_INVALID', `${path} ${message}`, {
      file,
      path,
      fix:
        fix ??
        'Write the limits as positive integers, e.g.\nagent:\n  limits: {follows: 100, follows_per_principal: 20, requests_per_second: 50, request_burst: 100, connections: 4096, connections_per_address: 2048, streams: 2048, streams_per_principal: 1024}',
    });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('agent.limits', `must be a mapping (${known})`);
  const given: Record<string, number> = {};
  for (const [key, limit] of Object.entries(value)) {
    if (!known.split(', ').includes(key))
      throw invalid(`agent.limits.${key}`, `is not a limit (known: ${known})`);
    if (!Number.isSafeInteger(limit) || (limit as number) < 1)
      throw invalid(
        `agent.limits.${key}`,
        `must be a positive integer, not ${typeof limit === 'number' ? String(limit) : JSON.stringify(limit)}`,
      );
    given[key] = limit as number;
  }
  if (given.request_burst !== undefined && given.requests_per_second === undefined)
    throw invalid('agent.limits.request_burst', 'needs requests_per_second (the rate the burst is above)');
  // The follows' share, as before it was checked: one above the whole is cut to it (configs written with the
  // documented 20 and a lowered `follows` still load), and left out it is 20 or the whole, whichever is smaller.
  const followsTotal = given.follows ?? DEFAULT_FOLLOW_LIMITS.total;
  // A share (one client address's connections, one principal's streams) may not be more than its whole (a mistake,
  // not a setting); left out, it is `fallback` of the whole.
  const share = (key: string, wholeKey: string, whose: string, fallback: (whole: number) => number) => {
    const whole = given[wholeKey] ?? DEFAULT_CONNECTION_LIMITS[wholeKey as 'connections' | 'streams'];
    const asked = given[key];
    if (asked !== undefined && asked > whole)
      throw invalid(
        `agent.limits.${key}`,
        `must not exceed agent.limits.${wholeKey} (${whole}${given[wholeKey] === undefined ? ', the default' : ''}), not ${asked}`,
        `Lower agent.limits.${key} to at most ${whole}, or raise agent.limits.${wholeKey} (${whose} share cannot be more than the whole).`,
      );
    return { whole, share: asked ?? fallback(whole) };
  };
  // One client address may hold every connection unless a share is set: on loopback (the default) and behind a proxy
  // every client is one address. One principal holds half the streams (at least 1, at most the default).
  const connections = share(
    'connections_per_address',
    'connections',
    "one client address's",
    (whole) => whole,
  );
  const streams = share('streams_per_principal', 'streams', "one principal's", (whole) =>
    Math.min(DEFAULT_CONNECTION_LIMITS.streamsPerPrincipal, Math.max(1, Math.floor(whole / 2))),
  );
  return {
    follows: {
      total: followsTotal,
      perPrincipal: Math.min(given.follows_per_principal ?? DEFAULT_FOLLOW_LIMITS.perPrincipal, followsTotal),
    },
    connections: connections.whole,
    connectionsPerAddress: connections.share,
    streams: streams.whole,
    streamsPerPrincipal: streams.share,
    ...(given.requests_per_second !== undefined
      ? {
          rate: {
            perSecond: given.requests_per_second,
            burst: given.request_burst ?? given.requests_per_second,
          },
        }
      : {}),
  };
}
