import type { Migration } from '../../store/sqlite/migrations.ts';

/**
 * Schema of the agent database (`$DVM_HOME/agent.db`): tokens, audit, idempotency, confirmations and executions.
 * It is a file of its own so the API's durable writes (audit group commits) never wait on the object store.
 */
export const AGENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      'tokens, audit chain, idempotency keys, confirmation challenges, executions and their events',
    sql: `
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT,
        last_used_at TEXT
      );
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT,
        version TEXT,
        decision TEXT NOT NULL,
        env TEXT,
        target TEXT,
        request_id TEXT,
        execution_id TEXT,
        entry TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_by_at ON audit (at);
      CREATE INDEX audit_by_actor ON audit (actor, seq);
      CREATE INDEX audit_by_action ON audit (action, seq);
      CREATE INDEX audit_by_request ON audit (request_id);
      CREATE TABLE idempotency (
        principal TEXT NOT NULL,
        request_id TEXT NOT NULL,
        payload_hash TEXT NOT NULL,
        execution_id TEXT,
        status INTEGER,
        response TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (principal, request_id)
      );
      CREATE TABLE confirmations (
        id TEXT PRIMARY KEY,
        binding TEXT NOT NULL,
        principal TEXT NOT NULL,
        env TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        approved_by TEXT
      );
      CREATE TABLE executions (
        id TEXT PRIMARY KEY,
        request_id TEXT,
        principal TEXT NOT NULL,
        action TEXT NOT NULL,
        version TEXT NOT NULL,
        env TEXT,
        target TEXT,
        status TEXT NOT NULL,
        result TEXT,
        error TEXT,
        pid INTEGER,
        created_at TEXT NOT NULL,
        finished_at TEXT
      );
      CREATE INDEX executions_by_status ON executions (status);
      CREATE TABLE execution_events (
        execution_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (execution_id, seq)
      );
    `,
  },
  {
    version: 2,
    description:
      'the audit chain head: the last entry appended (seq, hash), so verify detects a truncated log',
    sql: `
      CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
      );
      INSERT INTO audit_head (id, seq, hash)
        SELECT 1, COALESCE(MAX(seq), 0),
               COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), '${'0'.repeat(64)}')
        FROM audit;
    `,
  },
  {
    version: 3,
    description:
      'executions, idempotency keys and confirmations are keyed by principal identity (token/<id> or local), not name',
    // A token's name becomes its identity; `local` stays the local admin's (a token could be named so before
    // built-in names were reserved, and such tokens are refused from now on).
    sql: `
      ALTER TABLE confirmations ADD COLUMN principal_name TEXT;
      UPDATE confirmations SET principal_name = principal;
      UPDATE executions SET principal = 'token/' || (SELECT id FROM tokens WHERE tokens.name = executions.principal)
        WHERE principal <> 'local' AND principal IN (SELECT name FROM tokens);
      UPDATE idempotency SET principal = 'token/' || (SELECT id FROM tokens WHERE tokens.name = idempotency.principal)
        WHERE principal <> 'local' AND principal IN (SELECT name FROM tokens);
      UPDATE confirmations SET principal = 'token/' || (SELECT id FROM tokens WHERE tokens.name = confirmations.principal)
        WHERE principal <> 'local' AND principal IN (SELECT name FROM tokens);
      -- A pending challenge's binding hashed the principal's name: it can no longer match, so it expires now (the
      -- caller gets a new one on retry) instead of failing as a mismatch.
      UPDATE confirmations SET expires_at = created_at WHERE used_at IS NULL;
    `,
  },
  {
    version: 4,
    description:
      'confirmations keep what they are for (action, version, redacted params, target, request id)',
    sql: `
      ALTER TABLE confirmations ADD COLUMN approval TEXT;
      ALTER TABLE confirmations ADD COLUMN request TEXT;
    `,
  },
  {
    version: 5,
    description:
      "confirmations keep the approver's identity, so an approval by a token revoked or expired since no longer counts",
    // Approvals given before (no identity to check) are withdrawn: they last minutes, and a new one is one request.
    sql: `
      ALTER TABLE confirmations ADD COLUMN approver_id TEXT;
      UPDATE confirmations SET approved_by = NULL WHERE approved_by IS NOT NULL AND used_at IS NULL;
    `,
  },
  {
    version: 6,
    description:
      'executions are listed newest first by status or by principal from an index, without sorting or scanning the table',
    // (status, id) replaces (status): still one index to keep on every insert and status change, and a page of
    // `status=succeeded` no longer sorts every succeeded execution. Every page of a non-admin is filtered by its
    // principal, so that one gets its own (one more index entry per execution).
    sql: `
      DROP INDEX executions_by_status;
      CREATE INDEX executions_by_status ON executions (status, id);
      CREATE INDEX executions_by_principal ON executions (principal, id);
    `,
  },
  {
    version: 7,
    description:
      "tokens have an owner (the person or team behind them), and confirmations keep their requester's owner",
    // NULL is a token's own name: every token made before owners is its own person, as the two-person rule saw it.
    // Until now every principal was its own owner (local: local), so the requester's name is its owner.
    sql: `
      ALTER TABLE tokens ADD COLUMN owner TEXT;
      ALTER TABLE confirmations ADD COLUMN principal_owner TEXT;
      UPDATE confirmations SET principal_owner = COALESCE(principal_name, principal);
    `,
  },
];
