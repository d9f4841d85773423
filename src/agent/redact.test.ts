import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DvmError } from '../errors/dvm-error.ts';
import {
  createRedactor,
  loadRedactor,
  MAX_REDACT_DEPTH,
  PATTERN_OVERLAP,
  PATTERN_WINDOW,
  REDACTED,
  TOO_DEEP,
  UNSCANNED,
} from './redact.ts';
import { BACKTRACKING_FIX, backtrackingRisk } from './redact-pattern.ts';

test('schema fields marked x-secret are redacted at any depth', () => {
  const schema = {
    type: 'object',
    properties: {
      password: { type: 'string', 'x-secret': true },
      nested: {
        type: 'object',
        properties: { apiKey: { type: 'string', 'x-secret': true }, name: { type: 'string' } },
      },
      list: { type: 'array', items: { type: 'object', properties: { token: { 'x-secret': true } } } },
    },
  };
  const out = createRedactor().redact(
    { password: 'p@ss', nested: { apiKey: 'k', name: 'visible' }, list: [{ token: 1 }, { token: 'two' }] },
    schema,
  );
  assert.deepEqual(out, {
    password: REDACTED,
    nested: { apiKey: REDACTED, name: 'visible' },
    list: [{ token: REDACTED }, { token: REDACTED }],
  });
});

test('each default secret pattern is redacted inside any string', () => {
  const r = createRedactor();
  const cases: [string, string][] = [
    [`token dvm_0123abcd_${'a'.repeat(43)} end`, 'token [REDACTED] end'],
    ['Authorization: Bearer abc.def-123456', 'Authorization: Bearer [REDACTED]'],
    ['key AKIAIOSFODNN7EXAMPLE', 'key [REDACTED]'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', '[REDACTED]'],
    ['db?password=s3cr3t&user=x', 'db?password=[REDACTED]&user=x'],
    ['postgres://app:pw123@db:5432/x', 'postgres://app:[REDACTED]@db:5432/x'],
    ['https://hooks.slack.com/services/T000/B000/XXXX', 'https://hooks.slack.com/services/[REDACTED]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpM', 'jwt [REDACTED]'],
  ];
  for (const [input, expected] of cases) assert.equal(r.redactText(input), expected, input);
  assert.equal(r.redactText('nothing secret here'), 'nothing secret here');
});

test('extra patterns come from config.yaml; an invalid one is a coded error', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-redact-'));
  try {
    writeFileSync(join(home, 'config.yaml'), 'redact:\n  patterns: ["sk_live_[A-Za-z0-9]+"]\n');
    assert.equal((await loadRedactor(home)).redactText('pay sk_live_abc123 now'), 'pay [REDACTED] now');
    writeFileSync(join(home, 'config.yaml'), 'redact:\n  patterns: ["(unclosed"]\n');
    await assert.rejects(loadRedactor(home), {
      code: 'DVM_SCHEMA_INVALID',
      message: /redact\.patterns\[0\]/,
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('secret-shaped keys are redacted too; plain identifier keys are kept', () => {
  const r = createRedactor();
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpM';
  const out = r.redact({ AKIAIOSFODNN7EXAMPLE: 1, [jwt]: 2, containerName: 'web', pid: 7 }) as Record<
    string,
    unknown
  >;
  // Both secret keys become [REDACTED] (and so collide into one key).
  assert.deepEqual(Object.keys(out).sort(), ['[REDACTED]', 'containerName', 'pid']);
  assert.equal(out.containerName, 'web');
});

test('values under secret-named keys are redacted whatever they look like; similar names are kept', () => {
  const out = createRedactor().redact({
    password: 'hunter2',
    api_key: 'abc123xyzsecret',
    nested: {
      db_password: 'x1',
      clientSecret: 'x2',
      'x-api-key': 'x3',
      AWS_ACCESS_KEY: 'x4',
      privateKey: 'x5',
    },
    credentials: { user: 'u', pass: 'p' },
    authorization: 'Basic dXNlcg==',
    pwd: 'x6',
    token: 7,
    secretName: 'db-creds',
    tokens: 3,
    none: null,
  });
  assert.deepEqual(out, {
    password: REDACTED,
    api_key: REDACTED,
    nested: {
      db_password: REDACTED,
      clientSecret: REDACTED,
      'x-api-key': REDACTED,
      AWS_ACCESS_KEY: REDACTED,
      privateKey: REDACTED,
    },
    credentials: REDACTED,
    authorization: REDACTED,
    pwd: REDACTED,
    token: REDACTED,
    secretName: 'db-creds',
    tokens: 3,
    none: null,
  });
});

test('content nested deeper than the walk goes is replaced by a marker, never passed on unwalked', () => {
  let deep: Record<string, unknown> = { note: 'password=hunter2', password: 'hunter2' };
  for (let i = 0; i < MAX_REDACT_DEPTH + 5; i++) deep = { d: i % 2 ? deep : [deep] };
  const text = JSON.stringify(createRedactor().redact(deep));
  assert.ok(!text.includes('hunter2'), text.slice(-200));
  assert.ok(text.includes(TOO_DEEP));
});

async function withPatterns<T>(patterns: string[], use: (home: string) => Promise<T>): Promise<T> {
  const home = mkdtempSync(join(tmpdir(), 'dvm-redact-'));
  try {
    // JSON is YAML flow style; its `\\` is a backslash in YAML too.
    writeFileSync(join(home, 'config.yaml'), `redact:\n  patterns: ${JSON.stringify(patterns)}\n`);
    return await use(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test('redact.patterns that can backtrack catastrophically are refused at load, each with its path', async () => {
  for (const bad of [
    '(a+)+$',
    '(a|aa)+',
    '(\\w+\\s?)*$',
    '(.*a){20}',
    '(a|a)*',
    '(?:[A-Za-z0-9]+)*=',
    '.*a.*a.*b',
  ]) {
    await withPatterns(['sk_live_[A-Za-z0-9]+', bad], (home) =>
      assert.rejects(loadRedactor(home), (error: DvmError) => {
        assert.equal(error.code, 'DVM_SCHEMA_INVALID', bad);
        assert.equal(error.location.path, 'redact.patterns[1]', bad);
        assert.match(error.message, /redact\.patterns\[1\] can backtrack catastrophically/, bad);
        assert.match(error.fix ?? '', /\(a\+\)\+ → a\+/, bad);
        return true;
      }),
    );
  }
});

test('ordinary redact.patterns load, lookbehinds too, and redact what the defaults do not', async () => {
  const patterns = ['sk_live_[A-Za-z0-9]+', 'AKIA[0-9A-Z]{16}', '(?<=secret=)[^&]+'];
  const r = await withPatterns(patterns, (home) => loadRedactor(home));
  // The default AWS pattern needs a word boundary and the default secret= stops at a space; these do not.
  assert.equal(
    r.redactText('pay sk_live_abc123 id=xAKIA0123456789ABCDEF q?secret=two words&y=1'),
    'pay [REDACTED] id=x[REDACTED] q?secret=[REDACTED]&y=1',
  );
});

test('the check accepts the rewrites its fix suggests', () => {
  const rewrites = [
    'a+',
    '[\\w\\s]*',
    '[ab]+',
    '\\s{0,4}=\\s{0,4}\\S+',
    'eyJ[\\w.-]{20,}',
    'sk_live_[A-Za-z0-9]{24,}',
  ];
  for (const source of rewrites) {
    assert.ok(BACKTRACKING_FIX.includes(source), source);
    assert.equal(backtrackingRisk(source), undefined, source);
  }
});

test('redact.patterns run in overlapping windows: a long string costs per window and a secret across a boundary is still redacted', () => {
  // Quadratic on a long run of letters (each start scans to the run's end): 32 s on these 150 000 characters as one
  // string, 0.4 s in windows. A synchronous test cannot time out, hence the wall-time assertion.
  const r = createRedactor({ patterns: [/[A-Za-z0-9]{8,}@vault/g], budgetMs: 60_000 });
  const secret = 'Zq9s3cr3tP4ss@vault';
  const step = PATTERN_WINDOW - PATTERN_OVERLAP;
  // Secrets across the second window's start, the first one's end, the third one's start, the second one's end.
  let text = '';
  let expected = '';
  for (const at of [step - 8, PATTERN_WINDOW - 7, 2 * step - 6, step + PATTERN_WINDOW - 5, 149_000]) {
    const filler = 'a'.repeat(at - 1 - text.length); // then a space, and the secret starts at `at`
    text += `${filler} ${secret} `;
    expected += `${filler} ${REDACTED} `;
  }
  text += 'a'.repeat(1000);
  expected += 'a'.repeat(1000);
  const started = performance.now();
  const out = r.redactText(text);
  assert.ok(performance.now() - started < 5_000, `${performance.now() - started} ms`);
  // Compared in pieces: a failure shows where, not 150 000 characters.
  assert.equal(out.length, expected.length);
  for (let i = 0; i < out.length; i += 200)
    assert.equal(out.slice(i, i + 200), expected.slice(i, i + 200), `at ${i}`);
});

test('the defaults still see a whole long string: a private key longer than a window is redacted next to redact.patterns', () => {
  const r = createRedactor({ patterns: [/sk_live_[A-Za-z0-9]+/g] });
  const body = 'MIIE'.repeat(PATTERN_WINDOW);
  const key = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`;
  assert.equal(r.redactText(`key: ${key} and sk_live_abc`), `key: ${REDACTED} and ${REDACTED}`);
});

test('text redact.patterns had no time left to scan is replaced by a marker, never passed on unscanned', () => {
  // Windows alone still cost about 2 s for a quadratic pattern on 1 MiB; the per-call budget (100 ms) stops it.
  const r = createRedactor({ patterns: [/[A-Za-z0-9]{8,}@vault/g] });
  const text = `first Zq9s3cr3tP4ss@vault ${'a'.repeat(1 << 20)} last Zq9s3cr3tP4ss@vault`;
  const [long, next] = r.redact([text, 'next Zq9s3cr3tP4ss@vault']) as string[];
  assert.ok(long.startsWith(`first ${REDACTED} aaaa`), long.slice(0, 40));
  assert.ok(long.endsWith(UNSCANNED), long.slice(-60));
  assert.ok(!long.includes('s3cr3t'));
  assert.ok(long.length < text.length);
  // The deadline is per call: later strings of the same value are not scanned either.
  assert.equal(next, UNSCANNED);
});
