import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRedactor, loadRedactor, MAX_REDACT_DEPTH, REDACTED, TOO_DEEP } from './redact.ts';

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
