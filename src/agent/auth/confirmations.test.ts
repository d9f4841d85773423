import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DvmError } from '../../errors/dvm-error.ts';
import { openAgentDb } from '../store/agent-db.ts';
import { Confirmations, confirmationIdOf } from './confirmations.ts';
import { LOCAL_PRINCIPAL, type Principal, tokenPrincipal } from './principal.ts';
import { TokenStore } from './tokens.ts';

const alice: Principal = tokenPrincipal('a11ce000', 'alice', 'operator');

// Approvers hold real tokens (in the store the confirmations ask): an approval counts while the token is valid.
function approver(
  tokens: TokenStore,
  name: string,
  ttlMs?: number,
  owner?: string,
): Principal & { revoke(): void } {
  const { token } = tokens.create(name, 'admin', ttlMs, owner);
  return { ...tokens.authenticate(`Bearer ${token}`), revoke: () => tokens.revoke(name, 'name') };
}

// An agent database in memory with its tokens and confirmations on `clock`; alice, who asks, and bob, who may
// approve, hold real tokens (a requester's challenge waits only while its token is valid).
function setUp(clock?: () => Date) {
  const db = openAgentDb(':memory:');
  const tokens = new TokenStore(db, clock);
  const confirmations = new Confirmations(db, clock, tokens);
  const { token } = tokens.create('alice', 'operator');
  const alice: Principal = tokens.authenticate(`Bearer ${token}`);
  return { db, tokens, confirmations, alice, bob: approver(tokens, 'bob') };
}

test('a confirmation token is bound to its request and principal, single use, and expires', () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const confirmations = new Confirmations(openAgentDb(':memory:'), () => now);
  const challenge = confirmations.issue('hash-a', alice, { ttlMs: 60_000 });
  assert.match(challenge.confirmation_token, /^dvmc_/);
  assert.throws(() => confirmations.check(challenge.confirmation_token, 'hash-b', alice), {
    code: 'DVM_CONFIRMATION_INVALID',
    message: /different request/,
  });
  assert.throws(
    () =>
      confirmations.check(challenge.confirmation_token, 'hash-a', {
        ...alice,
        id: 'token/b0b00000',
        name: 'bob',
      }),
    {
      code: 'DVM_CONFIRMATION_INVALID',
    },
  );
  assert.deepEqual(confirmations.check(challenge.confirmation_token, 'hash-a', alice), {});
  assert.equal(confirmations.consume(challenge.confirmation_token, 'hash-b'), false);
  assert.equal(confirmations.consume(challenge.confirmation_token, 'hash-a'), true);
  assert.equal(confirmations.consume(challenge.confirmation_token, 'hash-a'), false, 'single use');
  assert.throws(() => confirmations.check(challenge.confirmation_token, 'hash-a', alice), {
    message: /already used/,
  });

  const late = confirmations.issue('hash-c', alice, { ttlMs: 60_000 });
  now = new Date('2026-01-01T00:01:00Z');
  assert.throws(() => confirmations.check(late.confirmation_token, 'hash-c', alice), { message: /expired/ });
  assert.equal(confirmations.consume(late.confirmation_token, 'hash-c'), false);
  assert.throws(() => confirmations.check('dvmc_unknown', 'hash-c', alice), {
    code: 'DVM_CONFIRMATION_INVALID',
  });
});

test('a second principal approves; self-approval is refused', () => {
  const { confirmations, bob, tokens, alice } = setUp();
  const carol = approver(tokens, 'carol');
  const { confirmation_token: token } = confirmations.issue('h', alice, { approval: 'other-principal' });
  assert.throws(() => confirmations.approve(token, alice), {
    code: 'DVM_CONFIRMATION_INVALID',
    message: /own request/,
    fix: /Another principal approves it/,
  });
  const approved = confirmations.approve(token, bob);
  assert.deepEqual(
    [approved.requested_by, approved.approved_by, approved.approval],
    ['alice', 'bob', 'other-principal'],
  );
  assert.equal(confirmations.check(token, 'h', alice).approvedBy, 'bob');
  assert.equal(
    confirmations.check(token, 'h', alice).approver?.name,
    'bob',
    'with the principal that approved',
  );
  // Each refusal's fix is for whoever reads it: the approver here, the requester on a run.
  assert.throws(() => confirmations.approve(token, carol), { fix: /^Nothing to do: it is approved/ });
  assert.throws(() => confirmations.approve('feedface00', bob), { fix: /dvm action approvals/ });
  assert.equal(confirmations.consume(token, 'h'), true);
  assert.throws(() => confirmations.approve(token, bob), { fix: /^Nothing to approve: it was used/ });
  assert.throws(() => confirmations.check(token, 'h', alice), { fix: /without confirmation_token/ });
});

test('a confirmation shows what it is for: action, version, redacted params, target, request id, requester', () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const { confirmations, bob, alice } = setUp(() => now);
  const request = {
    action: 'notify.alert',
    version: '1.0.0',
    params: { message: 'restart', password: '[REDACTED]' },
    target: { env: 'prod' },
    request_id: 'r-1',
  };
  const { confirmation_token: token, expires_at } = confirmations.issue('h', alice, {
    approval: 'other-principal',
    ttlMs: 60_000,
    request,
  });
  const expected = {
    ...request,
    requested_by: 'alice',
    requester_owner: 'alice',
    approval: 'other-principal',
    expires_at,
  };
  assert.deepEqual(confirmations.pending(token), expected);
  assert.deepEqual(confirmations.approve(token, bob), { ...expected, approved_by: 'bob' });
  now = new Date('2026-01-01T00:02:00Z');
  assert.throws(() => confirmations.pending(token), { code: 'DVM_CONFIRMATION_INVALID', message: /expired/ });
  assert.equal(confirmations.describe(token)?.request_id, 'r-1', 'described whatever its state');
  assert.equal(confirmations.describe('dvmc_unknown'), undefined);
});

test('a confirmation is approved once: a racing second approver is refused and does not replace the first', () => {
  const { tokens, confirmations, bob, alice } = setUp();
  const carol = approver(tokens, 'carol');
  const challenge = confirmations.issue('hash-a', alice, { approval: 'other-principal' });
  const first = confirmations.approve(challenge.confirmation_token, bob);
  assert.equal(first.approved_by, 'bob');
  assert.equal(first.repeated, undefined, 'the first approval is no repeat');
  assert.throws(() => confirmations.approve(challenge.confirmation_token, carol), {
    code: 'DVM_CONFIRMATION_INVALID',
    details: { reason: 'approved' },
    message: /already approved by bob/,
  });
  assert.equal(confirmations.check(challenge.confirmation_token, 'hash-a', alice).approvedBy, 'bob');
  const again = confirmations.approve(challenge.confirmation_token, bob);
  assert.deepEqual(
    [again.approved_by, again.repeated],
    ['bob', true],
    'the same approver again is no change, said so',
  );
});

test('an approval stops counting once its approver is revoked or expired; another principal may then approve', () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const { tokens, confirmations, bob, alice } = setUp(() => now);
  const carol = approver(tokens, 'carol', 60_000);
  const dave = approver(tokens, 'dave');
  const first = confirmations.issue('hash-a', alice, { approval: 'other-principal', ttlMs: 300_000 });
  confirmations.approve(first.confirmation_token, bob);
  assert.equal(confirmations.check(first.confirmation_token, 'hash-a', alice).approvedBy, 'bob');
  bob.revoke();
  assert.deepEqual(confirmations.check(first.confirmation_token, 'hash-a', alice), {}, 'revoked: withdrawn');
  assert.equal(
    confirmations.approve(first.confirmation_token, dave).approved_by,
    'dave',
    'another may approve',
  );
  assert.equal(confirmations.check(first.confirmation_token, 'hash-a', alice).approvedBy, 'dave');

  const second = confirmations.issue('hash-b', alice, { approval: 'other-principal', ttlMs: 300_000 });
  confirmations.approve(second.confirmation_token, carol);
  now = new Date('2026-01-01T00:02:00Z'); // carol's token expired, the confirmation not
  assert.deepEqual(confirmations.check(second.confirmation_token, 'hash-b', alice), {}, 'expired: withdrawn');
});

test('awaitingApproval lists unused, unexpired, unapproved two-person challenges newest first; an id names one for lookups and approvals only', () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const { db, confirmations, bob, alice } = setUp(() => now);
  const request = (action: string) => ({
    action,
    version: '1.0.0',
    params: {},
    target: { env: 'prod' },
    request_id: action,
  });
  const issue = (action: string, approval: 'self' | 'other-principal', ttlMs = 60_000) => {
    const challenge = confirmations.issue(`hash-${action}`, alice, {
      ttlMs,
      approval,
      request: request(action),
    });
    now = new Date(now.getTime() + 1000);
    return challenge.confirmation_token;
  };
  issue('self.only', 'self');
  issue('expires.soon', 'other-principal', 1500);
  const used = issue('used.one', 'other-principal');
  const approved = issue('approved.one', 'other-principal');
  issue('older.one', 'other-principal');
  const newer = issue('newer.one', 'other-principal');
  assert.equal(confirmations.consume(used, 'hash-used.one'), true);
  confirmations.approve(approved, bob);

  const waiting = confirmations.awaitingApproval();
  assert.deepEqual(
    waiting.map((w) => w.action),
    ['newer.one', 'older.one'],
  );
  assert.ok(waiting.every((w) => /^[0-9a-f]{64}$/.test(w.id) && !JSON.stringify(w).includes('dvmc_')));
  const [newest] = waiting;
  assert.equal(confirmations.pending(newest.id).action, 'newer.one');
  assert.equal(confirmations.pending(newest.id.slice(0, 8)).action, 'newer.one', 'a unique prefix names it');
  assert.throws(() => confirmations.pending('abc'), {
    code: 'DVM_CONFIRMATION_INVALID',
    message: /8 to 64 hex digits/,
  });
  // An id never stands in for the token where the request runs.
  assert.throws(() => confirmations.check(newest.id, 'hash-newer.one', alice), {
    code: 'DVM_CONFIRMATION_INVALID',
    message: /not a dvm confirmation token/,
  });
  assert.equal(confirmations.consume(newest.id, 'hash-newer.one'), false);
  assert.equal(confirmations.approve(newest.id, bob).approved_by, 'bob');
  assert.equal(confirmations.check(newer, 'hash-newer.one', alice).approvedBy, 'bob');
  assert.deepEqual(
    confirmations.awaitingApproval().map((w) => w.action),
    ['older.one'],
  );

  // Two ids that share a prefix: the prefix is ambiguous, never a guess.
  db.prepare(
    "INSERT INTO confirmations (id, binding, principal, created_at, expires_at, approval) VALUES (?, 'b', 'local', ?, ?, 'other-principal')",
  ).run(`feedface${'0'.repeat(56)}`, now.toISOString(), '2027-01-01T00:00:00Z');
  db.prepare(
    "INSERT INTO confirmations (id, binding, principal, created_at, expires_at, approval) VALUES (?, 'b', 'local', ?, ?, 'other-principal')",
  ).run(`feedface${'1'.repeat(56)}`, now.toISOString(), '2027-01-01T00:00:00Z');
  assert.throws(() => confirmations.approve('feedface', bob), {
    code: 'DVM_CONFIRMATION_INVALID',
    message: /names more than one confirmation/,
  });
  assert.equal(confirmations.pending(`feedface1`).requested_by, 'local');
});

test('a request sent again before its approval replaces its waiting challenge; an approved one, or another request, stays', () => {
  const { confirmations, bob, alice } = setUp();
  const request = (request_id: string) => ({
    approval: 'other-principal' as const,
    request: { action: 'notify.alert', version: '1.0.0', params: {}, target: { env: 'prod' }, request_id },
  });
  const first = confirmations.issue('h', alice, request('r1'));
  const other = confirmations.issue('other', alice, request('r2'));
  // The same content under another request_id (a second run of one pipeline) is another request: it stays.
  const twin = confirmations.issue('h', alice, request('r3'));
  const second = confirmations.issue('h', alice, request('r1'));
  assert.equal(confirmations.awaitingApproval().length, 3, 'one entry per request, not per try');
  assert.throws(() => confirmations.approve(first.confirmation_token, bob), {
    code: 'DVM_CONFIRMATION_INVALID',
  });
  confirmations.approve(second.confirmation_token, bob);
  // Approved, it is no longer replaced: its requester may still use it.
  const third = confirmations.issue('h', alice, request('r1'));
  assert.equal(confirmations.check(second.confirmation_token, 'h', alice).approvedBy, 'bob');
  const waiting = confirmations.awaitingApproval().map((w) => w.id);
  assert.deepEqual(
    waiting.sort(),
    [third, other, twin].map((c) => confirmationIdOf(c.confirmation_token)).sort(),
  );
});

test('two principals of one owner are one person: neither approves the other, another owner does; the owner is kept with the challenge', () => {
  const { db, tokens, confirmations, bob, alice } = setUp();
  const laptop = approver(tokens, 'alice-laptop', undefined, 'alice');
  const ci = approver(tokens, 'alice-ci', undefined, 'alice');
  const { confirmation_token: token } = confirmations.issue('h', laptop, { approval: 'other-principal' });
  assert.equal(confirmations.describe(token)?.requester_owner, 'alice');
  assert.throws(() => confirmations.approve(token, ci), {
    code: 'DVM_CONFIRMATION_INVALID',
    details: { reason: 'self-approval' },
    message: 'alice-ci cannot approve the request of alice-laptop: both belong to owner alice',
    fix: /^Another principal approves it/,
  });
  // Nor does the principal alice (owner alice, as a token named alice made without --owner).
  assert.throws(() => confirmations.approve(token, alice), { message: /both belong to owner alice/ });
  assert.deepEqual(confirmations.check(token, 'h', laptop), {}, 'not approved by the refusals');
  assert.equal(confirmations.approve(token, bob).approved_by, 'bob', 'another owner approves');
  assert.equal(confirmations.check(token, 'h', laptop).approver?.owner, 'bob');

  // The local CLI user and a token minted for it (owner local) are one person too, either way round.
  const machine = approver(tokens, 'this-host', undefined, 'local');
  const byMachine = confirmations.issue('m', machine, { approval: 'other-principal' }).confirmation_token;
  assert.throws(() => confirmations.approve(byMachine, LOCAL_PRINCIPAL), { message: /owner local/ });
  const byLocal = confirmations.issue('l', LOCAL_PRINCIPAL, {
    approval: 'other-principal',
  }).confirmation_token;
  assert.throws(() => confirmations.approve(byLocal, machine), { message: /owner local/ });
  assert.equal(confirmations.approve(byLocal, bob).approved_by, 'bob');

  // A challenge keeps its requester's owner: the row says alice even though the token is looked up no more.
  const kept = db.prepare('SELECT principal_owner AS owner FROM confirmations WHERE principal = ?');
  assert.deepEqual(
    kept.all(laptop.id).map((row) => row.owner),
    ['alice'],
  );
  assert.equal(confirmations.describe('dvmc_unknown')?.requester_owner, undefined);
});

test("an approval is re-checked at run time: an approver of the requester's owner no longer counts", () => {
  const { db, confirmations, bob, alice } = setUp();
  const { confirmation_token: token } = confirmations.issue('h', alice, { approval: 'other-principal' });
  confirmations.approve(token, bob);
  assert.equal(confirmations.check(token, 'h', alice).approvedBy, 'bob');
  // However the requester's owner came to be bob's (a row written otherwise), the approval is withdrawn.
  db.prepare("UPDATE confirmations SET principal_owner = 'bob'").run();
  assert.deepEqual(confirmations.check(token, 'h', alice), {}, 'withdrawn');
  assert.equal(confirmations.pending(token).approved_by, undefined, 'and may be approved again');
});

test("a challenge without a recorded owner takes its requester token's owner", () => {
  const { db, tokens, confirmations } = setUp();
  const laptop = approver(tokens, 'alice-laptop', undefined, 'alice');
  const ci = approver(tokens, 'alice-ci', undefined, 'alice');
  const { confirmation_token: token } = confirmations.issue('h', laptop, { approval: 'other-principal' });
  db.prepare('UPDATE confirmations SET principal_owner = NULL').run();
  assert.equal(confirmations.describe(token)?.requester_owner, 'alice');
  assert.throws(() => confirmations.approve(token, ci), { message: /both belong to owner alice/ });
});

test("a challenge whose requester's token was revoked or expired is no longer listed, looked up or approved", () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const { tokens, confirmations, bob } = setUp(() => now);
  const ask = (name: string, ttlMs?: number) => {
    const { token } = tokens.create(name, 'operator', ttlMs);
    const requester = tokens.authenticate(`Bearer ${token}`);
    return confirmations.issue(`hash-${name}`, requester, { approval: 'other-principal', ttlMs: 300_000 })
      .confirmation_token;
  };
  const carols = ask('carol');
  const daves = ask('dave', 60_000);
  const locals = confirmations.issue('hash-local', LOCAL_PRINCIPAL, { approval: 'other-principal' });
  assert.equal(confirmations.awaitingApproval().length, 3);
  tokens.revoke('carol', 'name');
  now = new Date('2026-01-01T00:02:00Z'); // dave's token expired, the challenges not
  assert.deepEqual(
    confirmations.awaitingApproval().map((c) => c.requested_by),
    ['local'],
    'only the local request can still run',
  );
  for (const token of [carols, daves]) {
    for (const attempt of [() => confirmations.approve(token, bob), () => confirmations.pending(token)])
      assert.throws(attempt, (error: DvmError) => {
        assert.equal(error.code, 'DVM_CONFIRMATION_INVALID');
        assert.equal(error.details.reason, 'requester-invalid');
        assert.match(error.message, /can no longer run: its token was revoked or expired/);
        return true;
      });
  }
  assert.equal(confirmations.approve(locals.confirmation_token, bob).approved_by, 'bob');
});
