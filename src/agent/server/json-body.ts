import { DvmError } from '../../errors/dvm-error.ts';
import { forbiddenKeyError, forbiddenKeyPath } from '../../model/forbidden-keys.ts';
import { duplicateKeyPath } from './duplicate-keys.ts';

// Decodes request bodies as UTF-8, refusing malformed bytes (a replacement character would be stored and audited
// in place of what was sent) and keeping a byte order mark for JSON.parse to refuse.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Only a body containing one of these can hold a `__proto__` or `constructor.prototype` key (an escaped key
// character is \u00XX): others skip the walk.
const SUSPECT = /proto|constructor|\\u00/;

/**
 * Parses a JSON request body: DVM_REQUEST_MALFORMED (with the reason and, where it applies, the path) when it is
 * empty, not UTF-8, not JSON or repeats a key in one object, and DVM_REQUEST_FORBIDDEN_KEY naming the path when
 * it holds a `__proto__` key or a `constructor.prototype` (keys that could change object prototypes in code that
 * copies them).
 */
export function parseJsonBody(body: string | Uint8Array): unknown {
  const text = typeof body === 'string' ? body : utf8Text(body);
  if (text.length === 0) {
    throw new DvmError('DVM_REQUEST_MALFORMED', 'the request body is empty', {
      fix: 'Send a JSON object body, or no Content-Type: application/json.',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DvmError(
      'DVM_REQUEST_MALFORMED',
      `the request body is not valid JSON: ${(error as Error).message}`,
      {
        fix: 'Send a JSON object body with Content-Type: application/json.',
      },
    );
  }
  const repeated = duplicateKeyPath(text);
  if (repeated !== undefined) {
    throw new DvmError('DVM_REQUEST_MALFORMED', `the request body repeats the key ${repeated}`, {
      fix: 'Send each key once per object: readers disagree on which of two values counts (dvm would take the last).',
      path: repeated,
    });
  }
  const path = SUSPECT.test(text) ? forbiddenKeyPath(value) : undefined;
  if (path !== undefined) throw forbiddenKeyError(path, 'the request body');
  return value;
}

// The text of a body's bytes; DVM_REQUEST_MALFORMED when they are not UTF-8.
function utf8Text(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new DvmError('DVM_REQUEST_MALFORMED', 'the request body is not valid UTF-8', {
      fix: 'Send the JSON body encoded as UTF-8 (RFC 8259); escape other characters as \\uXXXX.',
    });
  }
}
