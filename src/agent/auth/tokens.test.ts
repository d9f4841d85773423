import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDvmError } from '../../errors/dvm-error.ts';
import { openAgentDb } from '../store/agent-db.ts';
import { MAX_TOKEN_TTL_MS, TOKEN_PATTERN, TokenStore } from './tokens.ts';

function store(now?: () => Date) {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-tokens-'));
  const path = join(dir, 'agent.db');
  const db = openAgentDb(path);
  return {
    tokens: new TokenStore(db, now),
    path,
    done: () => {
      db.close();
      rmSync(dir, { recursive: true });
    },
  };
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(isDvmError(error));
    assert.equal(error.code, 'DVM_UNAUTHENTICATED');
    return String(error.details.reason);
  }
  assert.fail('expected DVM_UNAUTHENTICATED');
}

test('a created token authenticates as its principal, and only its hash is stored', () => {
  const { tokens, path, done } = store();
  try {
    const { token, info } = tokens.create('ci', 'operator');
    assert.match(token, TOKEN_PATTERN);
    assert.equal(info.state, 'active');
    assert.deepEqual(tokens.authenticate(`Bearer ${token}`), {
      id: `token/${info.id}`,
      name: 'ci',
      role: 'operator',
      owner: 'ci',
      via: 'token',
      tokenId: info.id,
    });
    const secret = token.slice('dvm_12345678_'.length);
    assert.equal(secret.length, 43);
    const bytes = [path, `${path}-wal`].map((p) => {
      try {
        return readFileSync(p).toString('latin1');
      } catch {
        return '';
      }
    });
    assert.ok(!bytes.some((b) => b.includes(secret)), 'the secret never reaches the database file');
  } finally {
    done();
  }
});

test('missing, malformed, wrong, revoked and expired tokens are refused with their reason', () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const { tokens, done } = store(() => now);
  try {
    const { token } = tokens.create('short', 'viewer', 60_000);
    const { token: other } = tokens.create('gone', 'admin');
    assert.equal(
      reasonOf(() => tokens.authenticate(undefined)),
      'missing',
    );
    assert.equal(
      reasonOf(() => tokens.authenticate('Basic abc')),
      'malformed',
    );
    assert.equal(
      reasonOf(() => tokens.authenticate('Bearer nope')),
      'invalid',
    );
    // Right id, wrong secret.
    const forged = `${token.slice(0, 13)}${'A'.repeat(43)}`;
    assert.equal(
      reasonOf(() => tokens.authenticate(`Bearer ${forged}`)),
      'invalid',
    );
    tokens.revoke('gone');
    assert.equal(
      reasonOf(() => tokens.authenticate(`Bearer ${other}`)),
      'revoked',
    );
    assert.equal(tokens.authenticate(`Bearer ${token}`).name, 'short');
    now = new Date('2026-01-01T00:01:00Z');
    assert.equal(
      reasonOf(() => tokens.authenticate(`Bearer ${token}`)),
      'expired',
    );
    assert.deepEqual(
      tokens
        .list()
        .map((t) => [t.name, t.state])
        .sort(),
      [
        ['gone', 'revoked'],
        ['short', 'expired'],
      ],
    );
  } finally {
    done();
  }
});

test('token names, roles and ttls are checked, and names are unique', () => {
  const { tokens, done } = store();
  try {
    assert.throws(() => tokens.create('Bad Name', 'viewer'), { code: 'DVM_TOKEN_INVALID' });
    assert.throws(() => tokens.create('ok', 'root'), { code: 'DVM_TOKEN_INVALID' });
    assert.throws(() => tokens.create('ok', 'viewer', 0), { code: 'DVM_TOKEN_INVALID' });
    tokens.create('ok', 'viewer');
    assert.throws(() => tokens.create('ok', 'admin'), { code: 'DVM_ALREADY_EXISTS' });
    assert.throws(() => tokens.revoke('missing'), { code: 'DVM_NOT_FOUND' });
    assert.throws(() => tokens.create('0badc0de', 'viewer'), {
      code: 'DVM_TOKEN_INVALID',
      message: /looks like/,
    });
    assert.throws(() => tokens.create('long', 'viewer', 999_999_999 * 86_400_000), {
      code: 'DVM_TOKEN_INVALID',
      message: /maximum, 3650d/,
    });
    assert.equal(tokens.create('decade', 'viewer', MAX_TOKEN_TTL_MS).info.state, 'active');
    // Names are never reused: the message says so instead of suggesting a revocation that would not help.
    tokens.revoke('ok');
    assert.throws(
      () => tokens.create('ok', 'viewer'),
      (error: { code: string; message: string; fix: string }) =>
        error.code === 'DVM_ALREADY_EXISTS' &&
        /revoked at/.test(error.message) &&
        /never reused/.test(error.fix) &&
        !/Revoke it first/.test(error.fix),
    );
  } finally {
    done();
  }
});

test('a token revoked by another connection is refused from the next event-loop turn on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-tokens-'));
  try {
    const server = new TokenStore(openAgentDb(join(dir, 'agent.db')));
    const cli = new TokenStore(openAgentDb(join(dir, 'agent.db')));
    const { token } = cli.create('ci', 'operator');
    assert.equal(server.authenticate(`Bearer ${token}`).name, 'ci');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(server.authenticate(`Bearer ${token}`).name, 'ci', 'served from the cache');
    cli.revoke('ci');
    // Requests of the turn that already checked the database arrived together with the earlier ones.
    assert.equal(server.authenticate(`Bearer ${token}`).name, 'ci', 'the same turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(
      reasonOf(() => server.authenticate(`Bearer ${token}`)),
      'revoked',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('built-in principal names are reserved: refused at create, and a legacy token with one is refused', () => {
  const { tokens, path, done } = store();
  try {
    assert.throws(() => tokens.create('local', 'viewer'), { code: 'DVM_TOKEN_INVALID', message: /reserved/ });
    assert.throws(() => tokens.create('anonymous', 'viewer'), {
      code: 'DVM_TOKEN_INVALID',
      message: /reserved/,
    });
    // A token named `local` written before names were reserved (straight into the table, as an older dvm did).
    const secret = 'B'.repeat(43);
    const db = openAgentDb(path);
    db.prepare('INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)').run(
      '0badc0de',
      'local',
      'admin',
      createHash('sha256').update(secret).digest('hex'),
      new Date().toISOString(),
    );
    db.close();
    assert.equal(
      reasonOf(() => tokens.authenticate(`Bearer dvm_0badc0de_${secret}`)),
      'reserved',
    );
  } finally {
    done();
  }
});

test('revoke takes an exact id first, else a name, and refuses an argument that is one token id and another name', () => {
  const { tokens, path, done } = store();
  try {
    const a = tokens.create('alpha', 'viewer').info;
    const b = tokens.create('beta', 'viewer').info;
    // A token named like alpha's id, as a dvm that did not refuse such names could have stored it.
    const db = openAgentDb(path);
    db.prepare('INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)').run(
      'feedbeef',
      a.id,
      'admin',
      '00',
      new Date().toISOString(),
    );
    db.close();
    assert.throws(
      () => tokens.revoke(a.id),
      (error: { code: string; message: string; details: { matches: { id: string }[] } }) =>
        error.code === 'DVM_AMBIGUOUS' &&
        error.message.includes('"alpha"') &&
        error.details.matches.map((m) => m.id).join() === `${a.id},feedbeef`,
    );
    assert.deepEqual(
      tokens.list().map((t) => t.state),
      ['active', 'active', 'active'],
      'nothing revoked',
    );
    assert.equal(tokens.revoke(a.id, 'id').name, 'alpha');
    assert.equal(tokens.revoke(a.id, 'name').id, 'feedbeef');
    assert.equal(tokens.revoke(b.id).name, 'beta', 'an id alone');
    assert.throws(() => tokens.revoke('beta', 'id'), { code: 'DVM_NOT_FOUND' });
  } finally {
    done();
  }
});

test('a token has an owner: the one it was created for, else its own name; local may own one, anonymous not', () => {
  const { tokens, done } = store();
  try {
    const laptop = tokens.create('alice-laptop', 'operator', undefined, 'alice');
    const ci = tokens.create('alice-ci', 'admin', undefined, 'alice');
    const own = tokens.create('bob', 'admin');
    const machine = tokens.create('this-host', 'admin', undefined, 'local');
    assert.deepEqual(
      [laptop, ci, own, machine].map((t) => [t.info.owner, tokens.authenticate(`Bearer ${t.token}`).owner]),
      [
        ['alice', 'alice'],
        ['alice', 'alice'],
        ['bob', 'bob'],
        ['local', 'local'],
      ],
    );
    assert.equal(tokens.principalById(laptop.info.id)?.owner, 'alice');
    assert.equal(tokens.principalNamed('alice-ci')?.owner, 'alice');
    assert.deepEqual(
      tokens
        .list()
        .map((t) => [t.name, t.owner])
        .sort(),
      [
        ['alice-ci', 'alice'],
        ['alice-laptop', 'alice'],
        ['bob', 'bob'],
        ['this-host', 'local'],
      ],
    );
    for (const [owner, message] of [
      ['anonymous', /owner "anonymous" is reserved/],
      ['Alice', /owner "Alice" is not valid/],
      ['', /owner "" is not valid/],
      ['a'.repeat(64), /is not valid/],
    ] as const) {
      assert.throws(
        () => tokens.create(`t-${owner.length}`, 'viewer', undefined, owner),
        (error: { code: string; message: string; location: { path?: string } }) =>
          error.code === 'DVM_TOKEN_INVALID' &&
          message.test(error.message) &&
          error.location.path === 'owner',
        owner,
      );
    }
    assert.equal(tokens.list().length, 4, 'no token was made with a refused owner');
  } finally {
    done();
  }
});

test('a token stored before owners (no owner in its row) authenticates as its own owner, its name', () => {
  const { tokens, path, done } = store();
  try {
    const secret = 'C'.repeat(43);
    const db = openAgentDb(path);
    db.prepare('INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)').run(
      'abcd1234',
      'old-ci',
      'operator',
      createHash('sha256').update(secret).digest('hex'),
      new Date().toISOString(),
    );
    db.close();
    const principal = tokens.authenticate(`Bearer dvm_abcd1234_${secret}`);
    assert.deepEqual([principal.name, principal.owner], ['old-ci', 'old-ci']);
    assert.equal(tokens.principalById('abcd1234')?.owner, 'old-ci');
    assert.equal(tokens.list()[0].owner, 'old-ci');
  } finally {
    done();
  }
});
