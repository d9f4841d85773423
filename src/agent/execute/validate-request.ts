import { parseDuration } from '../../actions/builtin/duration.ts';
import { DvmError, type ErrorCause } from '../../errors/dvm-error.ts';
import { CONTROL_CHARACTER, CONTROL_CHARACTERS } from '../../model/control-characters.ts';
import { forbiddenKeyError, forbiddenKeyPath } from '../../model/forbidden-keys.ts';
import { didYouMean } from '../../model/suggest.ts';
import { MAX_REQUEST_DEPTH, MAX_REQUEST_ITEMS, MAX_REQUEST_KEYS, shapeExcess } from './nesting.ts';
import type { ExecuteRequest } from './types.ts';
import { illFormedTextPath } from './well-formed-text.ts';

const FIELDS = [
  'request_id',
  'action',
  'version',
  'params',
  'target',
  'confirmation_token',
  'dry_run',
  'timeout',
];
/** What a request_id may be: 1–128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit. */
export const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
/** What an environment name (`target.env`) may be: lowercase letters, digits and inner dashes, at most 63. */
export const ENV = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The most keys a request's target may have (env included): each is a tag policies are decided on. */
export const MAX_TARGET_KEYS = 32;
/** The most top-level keys a request's params may have: each is a tag policies are decided on. */
export const MAX_PARAMS_KEYS = 256;

// An action version: major.minor.patch, with a pre-release or build suffix.
const VERSION = /^\d+\.\d+\.\d+([-+].*)?$/;
// A duration (DURATION_PATTERN's units) with a non-zero digit somewhere: what `timeout` takes.
const POSITIVE_DURATION = '^(?=.*[1-9])([0-9]+(ms|s|m|h|d))+$';

/** JSON Schema of the execute request body (for the OpenAPI document; execute() checks it by hand). */
export const EXECUTE_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['request_id', 'action', 'target'],
  properties: {
    request_id: {
      type: 'string',
      pattern: REQUEST_ID.source,
      description: 'Idempotency key of this request.',
    },
    action: { type: 'string', pattern: ACTION.source, description: 'Action name, like docker.logs.' },
    version: {
      type: 'string',
      pattern: VERSION.source,
      description: 'Action version, like 1.0.0; the latest when left out.',
    },
    params: {
      type: 'object',
      maxProperties: MAX_PARAMS_KEYS,
      description: "The action's input, checked against its input schema.",
    },
    target: {
      type: 'object',
      required: ['env'],
      maxProperties: MAX_TARGET_KEYS,
      description:
        'Where the action acts: env, and labels (cluster, host, …) as text; no key or text in it may hold a control character or a bidirectional override.',
      properties: { env: { type: 'string', pattern: ENV.source, description: 'dev, stage, prod, …' } },
      additionalProperties: true,
    },
    confirmation_token: { type: 'string', description: 'From a 428 challenge, for exactly this request.' },
    dry_run: { type: 'boolean', description: 'Decide and validate only; nothing runs.' },
    timeout: {
      type: 'string',
      pattern: POSITIVE_DURATION,
      description: 'A duration above zero like 500ms, 30s or 5m, clamped to the action maximum.',
    },
  },
} as const;

// A cause in a sentence: its message, with its path when the message does not name it. Never `path: message`, which
// reads as a key and its value (`confirmation_token: …`) to the redactor that every answer goes through.
function causeText(c: ErrorCause): string {
  return c.path === undefined || c.message.includes(c.path) ? c.message : `${c.message} (at ${c.path})`;
}

function cause(path: string, message: string, fix?: string): ErrorCause {
  return { code: 'DVM_REQUEST_INVALID', path, message, ...(fix ? { fix } : {}) };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// Adds a cause for each target key or text value holding a control character: a target is labels shown to people
// (a confirmation's approver, the audit), which a requester must not be able to restyle or fake lines in.
function controlCharacters(target: Record<string, unknown>, causes: ErrorCause[]): void {
  let found = 0;
  for (const [key, value] of Object.entries(target)) {
    if (!CONTROL_CHARACTER.test(key) && !holdsControl(value)) continue;
    if (++found > 3) break;
    causes.push(
      cause(
        `target.${key.replace(CONTROL_CHARACTERS, '?')}`,
        'a target label may not hold control characters (newlines, escapes) or bidirectional overrides',
        'Name the target with printable text; put data in params.',
      ),
    );
  }
}

// True when a value holds a control character in any text or key, at any depth (iterative: the body's depth and
// key count are bounded before this runs).
function holdsControl(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (CONTROL_CHARACTER.test(v)) return true;
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) {
        if (!Array.isArray(v) && CONTROL_CHARACTER.test(key)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

// Adds a cause when an object of the request has more keys than its limit (counted without listing them all).
function tooManyKeys(value: unknown, path: string, max: number, causes: ErrorCause[]): void {
  if (!isObject(value)) return;
  let count = 0;
  for (const _ in value) if (++count > max) break;
  if (count > max) {
    causes.push(
      cause(
        path,
        `${path} has more than ${max} keys`,
        path === 'target'
          ? `Name the target with at most ${max} keys (env, and labels like cluster or host); put data in params.`
          : `Send at most ${max} params; put a large map inside one param (an object) if the action takes one.`,
      ),
    );
  }
}

/**
 * Checks an execute request body; DVM_REQUEST_INVALID lists every violation (path, message, fix), and a body
 * nested deeper than MAX_REQUEST_DEPTH is DVM_REQUEST_TOO_DEEP (holding more than MAX_REQUEST_KEYS object keys,
 * DVM_REQUEST_TOO_LARGE) before anything walks it recursively.
 */
export function validateExecuteRequest(body: unknown): ExecuteRequest {
  if (!isObject(body)) {
    throw new DvmError('DVM_REQUEST_MALFORMED', 'the request body must be a JSON object', {
      fix: 'Send {"request_id": …, "action": …, "params": {…}, "target": {"env": …}}.',
    });
  }
  const excess = shapeExcess(body, MAX_REQUEST_DEPTH, MAX_REQUEST_KEYS, MAX_REQUEST_ITEMS);
  if (excess === 'keys' || excess === 'items') {
    const [limit, what] =
      excess === 'keys'
        ? [MAX_REQUEST_KEYS, 'objects hold more than']
        : [MAX_REQUEST_ITEMS, 'lists hold more than'];
    throw new DvmError('DVM_REQUEST_TOO_LARGE', `the request body's ${what} ${limit} ${excess} in all`, {
      fix: `Send at most ${MAX_REQUEST_KEYS} object keys and ${MAX_REQUEST_ITEMS} list items in all: keep large data where the action reads it (a file, a DataStore).`,
      details: excess === 'keys' ? { max_keys: MAX_REQUEST_KEYS } : { max_items: MAX_REQUEST_ITEMS },
    });
  }
  if (excess === 'depth') {
    throw new DvmError(
      'DVM_REQUEST_TOO_DEEP',
      `the request body nests objects and arrays deeper than ${MAX_REQUEST_DEPTH} levels`,
      {
        fix: `Flatten params and target: at most ${MAX_REQUEST_DEPTH} levels of objects and arrays, the body counting as one.`,
        details: { max_depth: MAX_REQUEST_DEPTH },
      },
    );
  }
  // Refused on every surface, not only over HTTP: an in-process or pipeline request copied into plain objects would
  // lose a `__proto__` key (it sets the copy's prototype), so policy and audit would see less than the action got.
  const forbidden = forbiddenKeyPath(body);
  if (forbidden !== undefined) throw forbiddenKeyError(forbidden, 'the request');
  const causes: ErrorCause[] = [];
  const illFormed = illFormedTextPath(body);
  if (illFormed !== undefined) {
    causes.push(
      cause(
        illFormed,
        'this text is not well-formed Unicode: it has a lone UTF-16 surrogate (like \\ud800), which cannot be stored or audited as sent',
        'Send valid UTF-8 text; escape a character beyond U+FFFF as a surrogate pair (\\ud83d\\ude00), not half of one.',
      ),
    );
  }
  for (const key of Object.keys(body)) {
    if (!FIELDS.includes(key)) causes.push(cause(key, `unknown field "${key}"${didYouMean(key, FIELDS)}`));
  }
  const str = (key: string, pattern: RegExp | undefined, required: boolean, what: string) => {
    const v = body[key];
    if (v === undefined) {
      if (required) causes.push(cause(key, `${key} is required`, `Add ${key}: ${what}.`));
    } else if (typeof v !== 'string') causes.push(cause(key, `${key} must be a string`, `Make it ${what}.`));
    else if (pattern && !pattern.test(v))
      causes.push(cause(key, `${key} "${v.slice(0, 80)}" is not ${what}`));
  };
  str('request_id', REQUEST_ID, true, '1–128 letters, digits, ".", "_", ":" or "-"');
  str('action', ACTION, true, 'an action name like docker.logs');
  str('version', VERSION, false, 'a version like 1.0.0');
  str('confirmation_token', undefined, false, 'the token of a 428 challenge');
  if (body.params !== undefined && !isObject(body.params))
    causes.push(cause('params', 'params must be an object'));
  else tooManyKeys(body.params, 'params', MAX_PARAMS_KEYS, causes);
  if (body.dry_run !== undefined && typeof body.dry_run !== 'boolean') {
    causes.push(cause('dry_run', 'dry_run must be true or false'));
  }
  if (body.timeout !== undefined) {
    str('timeout', undefined, false, 'a duration like 30s');
    if (typeof body.timeout === 'string') {
      try {
        if (parseDuration(body.timeout) <= 0) causes.push(cause('timeout', 'timeout must be positive'));
      } catch {
        causes.push(
          cause('timeout', `timeout "${body.timeout}" is not a duration`, 'Use e.g. 500ms, 30s or 5m.'),
        );
      }
    }
  }
  if (!isObject(body.target)) {
    causes.push(
      cause(
        'target',
        body.target === undefined ? 'target is required' : 'target must be an object',
        'Add target: {"env": "dev"}.',
      ),
    );
  } else {
    if (typeof body.target.env !== 'string' || !ENV.test(body.target.env))
      causes.push(cause('target.env', 'target.env must be an environment name like dev, stage or prod'));
    tooManyKeys(body.target, 'target', MAX_TARGET_KEYS, causes);
    controlCharacters(body.target, causes);
  }
  if (causes.length > 0) {
    throw new DvmError(
      'DVM_REQUEST_INVALID',
      `the execute request is not valid: ${causes.length === 1 ? causeText(causes[0]) : `${causes.length} problems`}`,
      { fix: 'Fix each field listed (the causes; details.causes in an API answer).', causes },
    );
  }
  return body as unknown as ExecuteRequest;
}
