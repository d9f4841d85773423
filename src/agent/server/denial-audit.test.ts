import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog } from '../audit/audit-log.ts';
import { createRedactor } from '../redact.ts';
import { openAgentDb } from '../store/agent-db.ts';
import { GroupCommitter } from '../store/group-commit.ts';
import { DenialAudit } from './denial-audit.ts';

test('denials are audited one by one up to the limit of a window, then counted into one summary entry', async () => {
  const db = openAgentDb(':memory:');
  const audit = new AuditLog(db, { writer: new GroupCommitter(db), redactor: createRedactor() });
  let now = Date.parse('2026-01-01T00:00:00Z');
  const denials = new DenialAudit(audit, { limit: 3, windowMs: 60_000, now: () => now });
  const deny = (kind: string, source = '10.0.0.1') =>
    denials.record({
      kind,
      actor: 'anonymous',
      reasons: [`GET /v1/audit: not authenticated (${kind})`],
      error: { code: 'DVM_UNAUTHENTICATED', message: 'the bearer token is not valid' },
      source,
    });
  try {
    for (let i = 0; i < 10; i++) await deny(i % 2 ? 'invalid' : 'missing', i < 8 ? '10.0.0.1' : '10.0.0.2');
    assert.equal(audit.query().items.length, 3, 'a flood does not grow the audit beyond the limit');
    now += 60_000;
    await deny('revoked');
    const items = audit.query().items;
    assert.deepEqual(
      items.map((e) => [e.actor, e.decision]),
      Array(5).fill(['anonymous', 'denied']),
    );
    assert.match(
      items[3].reasons?.[0] ?? '',
      /^7 more refused requests in this 60 s window .*: invalid ×4, missing ×3; from 10\.0\.0\.1 ×5, 10\.0\.0\.2 ×2$/,
    );
    assert.equal(items[4].reasons?.[0], 'GET /v1/audit: not authenticated (revoked)', 'a new window');
    await denials.flush();
    assert.equal(audit.query().items.length, 5, 'nothing counted, nothing to summarise');
    assert.equal(audit.verify().ok, true);
  } finally {
    await audit.close();
    db.close();
  }
});

test('denials that arrive together as a window turns over still count against the new window', async () => {
  const db = openAgentDb(':memory:');
  const audit = new AuditLog(db, { writer: new GroupCommitter(db), redactor: createRedactor() });
  let now = Date.parse('2026-01-01T00:00:00Z');
  const denials = new DenialAudit(audit, { limit: 2, windowMs: 60_000, now: () => now });
  const deny = () =>
    denials.record({
      kind: 'missing',
      actor: 'anonymous',
      reasons: ['GET /v1/audit: not authenticated (missing)'],
      source: '10.0.0.1',
    });
  try {
    for (let i = 0; i < 5; i++) await deny();
    now += 60_000;
    // The first of these writes the old window's summary; the others arrive while it is written.
    await Promise.all(Array.from({ length: 20 }, deny));
    assert.equal(
      audit.query().items.length,
      2 + 1 + 2,
      'two of the first window, its summary, two of the new one',
    );
    await denials.flush();
    const items = audit.query().items;
    assert.match(items[items.length - 1].reasons?.[0] ?? '', /^18 more refused requests/);
  } finally {
    await audit.close();
    db.close();
  }
});
