import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openMigratedDatabase } from '../../store/sqlite/open-database.ts';
import { Confirmations } from '../auth/confirmations.ts';
import { TokenStore } from '../auth/tokens.ts';
import { openAgentDb } from './agent-db.ts';
import { AGENT_MIGRATIONS } from './migrations.ts';

test('upgrading keys executions, idempotency and confirmations by principal identity instead of name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-agent-db-'));
  const path = join(dir, 'agent.db');
  try {
    const v1 = openMigratedDatabase(path, AGENT_MIGRATIONS.slice(0, 1), { label: 'test' });
    const now = new Date().toISOString();
    v1.prepare(
      "INSERT INTO tokens (id, name, role, hash, created_at) VALUES ('abcd1234', 'ci', 'operator', '', ?)",
    ).run(now);
    for (const [id, principal] of [
      ['x1', 'ci'],
      ['x2', 'local'],
      ['x3', 'gone'],
    ]) {
      v1.prepare(
        "INSERT INTO executions (id, principal, action, version, status, created_at) VALUES (?, ?, 'a', '1', 'succeeded', ?)",
      ).run(id, principal, now);
      v1.prepare(
        'INSERT INTO idempotency (principal, request_id, payload_hash, created_at) VALUES (?, ?, ?, ?)',
      ).run(principal, id, 'h', now);
    }
    const later = new Date(Date.now() + 300_000).toISOString();
    v1.prepare(
      "INSERT INTO confirmations (id, binding, principal, created_at, expires_at) VALUES ('c1', 'b', 'ci', ?, ?)",
    ).run(now, later);
    v1.close();

    const db = openAgentDb(path);
    const column = (sql: string) => (db.prepare(sql).all() as { v: string }[]).map((r) => r.v);
    assert.deepEqual(column('SELECT principal AS v FROM executions ORDER BY id'), [
      'token/abcd1234',
      'local',
      'gone',
    ]);
    assert.deepEqual(column('SELECT principal AS v FROM idempotency ORDER BY request_id'), [
      'token/abcd1234',
      'local',
      'gone',
    ]);
    assert.deepEqual(column("SELECT principal || ' ' || principal_name AS v FROM confirmations"), [
      'token/abcd1234 ci',
    ]);
    // Its binding hashed the name: a pending challenge expires rather than fail as a mismatch later.
    assert.deepEqual(column('SELECT expires_at <= created_at AS v FROM confirmations'), [1]);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("upgrading to owners keeps every token its own owner and every pending challenge its requester's", () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-agent-db-'));
  const path = join(dir, 'agent.db');
  try {
    const v6 = openMigratedDatabase(
      path,
      AGENT_MIGRATIONS.filter((m) => m.version <= 6),
      { label: 'test' },
    );
    const now = new Date();
    const secret = 'D'.repeat(43);
    v6.prepare(
      "INSERT INTO tokens (id, name, role, hash, created_at) VALUES ('abcd1234', 'ci', 'operator', ?, ?)",
    ).run(createHash('sha256').update(secret).digest('hex'), now.toISOString());
    // A challenge ci was waiting on (a confirmation's id is 64 hex digits).
    const id = 'c1'.padEnd(64, '0');
    v6.prepare(
      `INSERT INTO confirmations (id, binding, principal, principal_name, created_at, expires_at, approval)
       VALUES (?, 'b', 'token/abcd1234', 'ci', ?, ?, 'other-principal')`,
    ).run(id, now.toISOString(), new Date(now.getTime() + 300_000).toISOString());
    v6.close();

    const db = openAgentDb(path);
    try {
      const tokens = new TokenStore(db);
      const principal = tokens.authenticate(`Bearer dvm_abcd1234_${secret}`);
      assert.deepEqual([principal.name, principal.owner], ['ci', 'ci']);
      assert.deepEqual(
        db
          .prepare('SELECT principal_owner AS owner FROM confirmations')
          .all()
          .map((r) => r.owner),
        ['ci'],
      );
      // Tokens made now: one for owner ci cannot approve the old challenge, one of another owner can.
      const confirmations = new Confirmations(db, () => now, tokens);
      const as = (name: string, owner?: string) =>
        tokens.authenticate(`Bearer ${tokens.create(name, 'admin', undefined, owner).token}`);
      assert.throws(() => confirmations.approve(id, as('ci-2', 'ci')), {
        message: /both belong to owner ci/,
      });
      assert.equal(confirmations.approve(id, as('bob')).approved_by, 'bob');
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
