import { DvmError } from '../errors/dvm-error.ts';
import { DEFAULT_FOLLOW_LIMITS, type FollowLimits } from './execute/follow-limits.ts';
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './server/connection-limits.ts';
import type { RequestRate } from './server/rate-limit.ts';

/**
 * config.yaml `agent.limits`, read: the follows' limits, the connections and event streams held open (in all, and by
 * one principal), and, when set, each principal's request rate.
 */
export interface AgentLimits extends ConnectionLimits {
  follows: FollowLimits;
  rate?: RequestRate;
}

/**
 * config.yaml `agent.limits` (its value, read by agentSettings): `{follows, follows_per_principal,
 * requests_per_second, request_burst, connections, streams, streams_per_principal}`, each a positive integer; the
 * defaults for those left out, no request rate without `requests_per_second` (a burst defaults to the rate), a
 * follows' share cut to `follows`, and a streams' share of half the streams by default. DVM_SCHEMA_INVALID (file,
 * path) for anything else, and for a `streams_per_principal` above `streams`.
 */
export function limitsSetting(value: unknown, file: string): AgentLimits {
  const known =
    'follows, follows_per_principal, requests_per_second, request_burst, connections, streams, streams_per_principal';
  const invalid = (path: string, message: string, fix?: string) =>
    new DvmError('DVM_SCHEMA_INVALID', `${path} ${message}`, {
      file,
      path,
      fix:
        fix ??
        'Write the limits as positive integers, e.g.\nagent:\n  limits: {follows: 100, follows_per_principal: 20, requests_per_second: 50, request_burst: 100, connections: 4096, streams: 2048, streams_per_principal: 1024}',
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
  // The streams' share may not be more than the whole (a mistake, not a setting); left out, it is half the
  // streams (at least 1, at most the default), so that one principal never holds them all.
  const streamsTotal = given.streams ?? DEFAULT_CONNECTION_LIMITS.streams;
  const askedStreams = given.streams_per_principal;
  if (askedStreams !== undefined && askedStreams > streamsTotal)
    throw invalid(
      'agent.limits.streams_per_principal',
      `must not exceed agent.limits.streams (${streamsTotal}${given.streams === undefined ? ', the default' : ''}), not ${askedStreams}`,
      `Lower agent.limits.streams_per_principal to at most ${streamsTotal}, or raise agent.limits.streams (one principal's share cannot be more than the whole).`,
    );
  return {
    follows: {
      total: followsTotal,
      perPrincipal: Math.min(given.follows_per_principal ?? DEFAULT_FOLLOW_LIMITS.perPrincipal, followsTotal),
    },
    connections: given.connections ?? DEFAULT_CONNECTION_LIMITS.connections,
    streams: streamsTotal,
    streamsPerPrincipal:
      askedStreams ??
      Math.min(DEFAULT_CONNECTION_LIMITS.streamsPerPrincipal, Math.max(1, Math.floor(streamsTotal / 2))),
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
