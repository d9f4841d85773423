import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableStringify } from './stable-json.ts';

// The straightforward definition: JSON.stringify's rules with each object's keys sorted. Stored fingerprints and
// audit hashes depend on this exact output, so the fast version must match it byte for byte.
function reference(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : JSON.stringify(value);
  }
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return reference(json.call(value));
  if (Array.isArray(value)) return `[${value.map((v) => reference(v) ?? 'null').join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = reference((value as Record<string, unknown>)[key]);
    if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
  }
  return `{${parts.join(',')}}`;
}

// mulberry32: the same values on every run.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'a',
  'b',
  'z',
  'A',
  '10',
  '9',
  '',
  'é',
  '"q"',
  '\u0000',
  'key with space',
  '__proto_',
  'toJSON_',
];
const LEAVES: unknown[] = [
  0,
  -0,
  1.5,
  1e21,
  5e-7,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'text',
  'quote " and \\ and \n',
  '\ud800',
  true,
  false,
  null,
  undefined,
  () => 1,
  Symbol('s'),
  new Date(0),
];

function value(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 3 || r < 0.5) return LEAVES[Math.floor(next() * LEAVES.length)];
  if (r < 0.7) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--)
    out[KEYS[Math.floor(next() * KEYS.length)]] = value(next, depth + 1);
  return out;
}

test('stableStringify matches sorted-key JSON.stringify on 5,000 random values', () => {
  const next = random(7);
  for (let i = 0; i < 5000; i++) {
    const v = value(next, 0);
    assert.equal(stableStringify(v), reference(v) ?? 'null', `value ${i}`);
  }
});

test('stableStringify sorts keys by code unit, honours toJSON and drops what JSON drops', () => {
  assert.equal(
    stableStringify({ b: 1, a: [undefined, () => 0], 10: 'x', 9: 'y' }),
    '{"10":"x","9":"y","a":[null,null],"b":1}',
  );
  assert.equal(
    stableStringify({ when: new Date(0), skip: undefined }),
    '{"when":"1970-01-01T00:00:00.000Z"}',
  );
  assert.equal(stableStringify(undefined), 'null');
  assert.throws(() => stableStringify({ n: 1n }), TypeError);
});
