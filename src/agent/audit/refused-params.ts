import { createHash } from 'node:crypto';

/** The most bytes of JSON a refused request's params keep in its audit entry; past it they are cut to a digest. */
export const REFUSED_PARAMS_MAX_BYTES = 4096;

/** How many of the params' names a cut keeps. */
const KEPT_NAMES = 32;

/**
 * The params an audit entry of a request that did not run (denied, or waiting for confirmation) keeps: as they are up
 * to REFUSED_PARAMS_MAX_BYTES of JSON, else `{"[cut]": {bytes, sha256, names}}` — their size, the SHA-256 of their
 * JSON and their first names — so a principal refused again and again cannot grow the audit by a megabyte a request.
 */
export function refusedParams(params: unknown): unknown {
  if (params === undefined || params === null) return params;
  const json = JSON.stringify(params);
  const bytes = Buffer.byteLength(json);
  if (bytes <= REFUSED_PARAMS_MAX_BYTES) return params;
  const names = typeof params === 'object' && !Array.isArray(params) ? Object.keys(params) : [];
  return {
    '[cut]': {
      bytes,
      sha256: createHash('sha256').update(json).digest('hex'),
      names: names.slice(0, KEPT_NAMES).map((name) => name.slice(0, 128)),
      ...(names.length > KEPT_NAMES ? { more_names: names.length - KEPT_NAMES } : {}),
    },
  };
}
