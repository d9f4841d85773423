import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readAgentConfig } from './agent-config.ts';
import { agentSettings, describeAgentSettings } from './agent-settings.ts';

test('describeAgentSettings says every setting in one line, the defaults included', () => {
  assert.equal(
    describeAgentSettings({}),
    'follows 100 at once (20 per principal); requests not rate-limited; connections 4096 at once (4096 per address); event streams 2048 at once (1024 per principal); executions kept for ever; environments any; 0 audit alert rule(s); allowed hosts not set',
  );
  const settings = agentSettings(
    {
      agent: {
        environments: ['prod', 'stage'],
        retention: '30d',
        limits: { follows: 5, requests_per_second: 10, connections: 50, streams: 7 },
        allowed_hosts: ['dvm.example.com', '.Internal.Example.com'],
      },
    },
    'config.yaml',
  );
  assert.equal(
    describeAgentSettings(settings),
    'follows 5 at once (5 per principal); requests 10/s per principal (burst 10); connections 50 at once (50 per address); event streams 7 at once (3 per principal); executions kept 30d; environments prod, stage; 0 audit alert rule(s); allowed hosts dvm.example.com, .internal.example.com',
  );
  assert.equal(
    describeAgentSettings(agentSettings({ agent: { allowed_hosts: [] } }, 'config.yaml'))
      .split('; ')
      .at(-1),
    'allowed hosts none',
  );
});

test('agent.limits.follows_per_principal: 20 by default, cut to follows when above it (configs that lowered follows still load)', () => {
  const limitsOf = (limits: Record<string, unknown>) =>
    agentSettings({ agent: { limits } }, 'config.yaml').limits;
  assert.deepEqual(limitsOf({})?.follows, { total: 100, perPrincipal: 20 });
  assert.deepEqual(
    limitsOf({ follows: 5 })?.follows,
    { total: 5, perPrincipal: 5 },
    'the default share is cut',
  );
  assert.deepEqual(limitsOf({ follows: 10, follows_per_principal: 20 })?.follows, {
    total: 10,
    perPrincipal: 10,
  });
  assert.deepEqual(limitsOf({ follows: 10, follows_per_principal: 3 })?.follows, {
    total: 10,
    perPrincipal: 3,
  });
});

test('agent.limits.streams_per_principal: half the streams by default (at most 1024) and never above streams; equal to streams is allowed, above it is DVM_SCHEMA_INVALID at its path', () => {
  const limitsOf = (limits: Record<string, unknown>) =>
    agentSettings({ agent: { limits } }, 'config.yaml').limits;
  assert.equal(limitsOf({})?.streamsPerPrincipal, 1024);
  assert.equal(limitsOf({ streams: 100 })?.streamsPerPrincipal, 50, 'the default share is half the streams');
  assert.equal(limitsOf({ streams: 3 })?.streamsPerPrincipal, 1);
  assert.equal(limitsOf({ streams: 1 })?.streamsPerPrincipal, 1);
  assert.equal(limitsOf({ streams: 4096 })?.streamsPerPrincipal, 1024, 'at most the default');
  assert.equal(limitsOf({ streams: 100, streams_per_principal: 100 })?.streamsPerPrincipal, 100);
  assert.equal(limitsOf({ streams_per_principal: 2048 })?.streamsPerPrincipal, 2048);
  for (const [limits, message] of [
    [{ streams: 100, streams_per_principal: 101 }, /must not exceed agent\.limits\.streams \(100\), not 101/],
    [
      { streams_per_principal: 2049 },
      /must not exceed agent\.limits\.streams \(2048, the default\), not 2049/,
    ],
    [{ streams_per_principal: 1.5 }, /must be a positive integer, not 1\.5/],
  ] as const) {
    assert.throws(
      () => limitsOf(limits),
      (error: { code?: string; location?: { path?: string; file?: string }; message: string }) =>
        error.code === 'DVM_SCHEMA_INVALID' &&
        error.location?.path === 'agent.limits.streams_per_principal' &&
        error.location?.file === 'config.yaml' &&
        message.test(error.message),
    );
  }
});

test('agent.limits.connections_per_address: all the connections by default (on loopback and behind a proxy every client is one address), and never above connections; equal to connections is allowed, above it is DVM_SCHEMA_INVALID at its path', () => {
  const limitsOf = (limits: Record<string, unknown>) =>
    agentSettings({ agent: { limits } }, 'config.yaml').limits;
  assert.equal(limitsOf({})?.connectionsPerAddress, 4096);
  assert.equal(limitsOf({ connections: 3 })?.connectionsPerAddress, 3, 'the default share is the whole');
  assert.equal(limitsOf({ connections: 8192 })?.connectionsPerAddress, 8192);
  assert.equal(limitsOf({ connections: 100, connections_per_address: 10 })?.connectionsPerAddress, 10);
  assert.equal(limitsOf({ connections: 100, connections_per_address: 100 })?.connectionsPerAddress, 100);
  assert.equal(limitsOf({ connections_per_address: 4096 })?.connectionsPerAddress, 4096);
  for (const [limits, message] of [
    [
      { connections: 100, connections_per_address: 101 },
      /must not exceed agent\.limits\.connections \(100\), not 101/,
    ],
    [
      { connections_per_address: 4097 },
      /must not exceed agent\.limits\.connections \(4096, the default\), not 4097/,
    ],
    [{ connections_per_address: 0 }, /must be a positive integer, not 0/],
    [{ connections_per_address: 1.5 }, /must be a positive integer, not 1\.5/],
  ] as const) {
    assert.throws(
      () => limitsOf(limits),
      (error: { code?: string; location?: { path?: string; file?: string }; message: string }) =>
        error.code === 'DVM_SCHEMA_INVALID' &&
        error.location?.path === 'agent.limits.connections_per_address' &&
        error.location?.file === 'config.yaml' &&
        message.test(error.message),
    );
  }
});

test("agent.limits names connections_per_address among the known limits and in the fix's example, with every other key", () => {
  const keys = [
    'follows',
    'follows_per_principal',
    'requests_per_second',
    'request_burst',
    'connections',
    'connections_per_address',
    'streams',
    'streams_per_principal',
  ];
  assert.throws(
    () => agentSettings({ agent: { limits: { conections_per_address: 2 } } }, 'config.yaml'),
    (error: { code?: string; message: string }) =>
      error.code === 'DVM_SCHEMA_INVALID' && error.message.endsWith(`(known: ${keys.join(', ')})`),
  );
  assert.throws(
    () => agentSettings({ agent: { limits: { connections_per_address: 'many' } } }, 'config.yaml'),
    (error: { fix?: string }) =>
      /connections: 4096, connections_per_address: 2048, streams: 2048/.test(error.fix ?? '') &&
      keys.every((key) => error.fix?.includes(`${key}: `)),
  );
  // A share above the whole says how to fix it: lower the one, or raise the other.
  assert.throws(
    () =>
      agentSettings({ agent: { limits: { connections: 10, connections_per_address: 11 } } }, 'config.yaml'),
    (error: { fix?: string }) =>
      error.fix ===
      "Lower agent.limits.connections_per_address to at most 10, or raise agent.limits.connections (one client address's share cannot be more than the whole).",
  );
});

test("a connections_per_address above connections in a home's config.yaml is DVM_SCHEMA_INVALID at its line", async () => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-limits-'));
  try {
    const file = join(home, 'config.yaml');
    writeFileSync(file, 'agent:\n  limits:\n    connections: 100\n    connections_per_address: 101\n');
    await assert.rejects(
      readAgentConfig(home, {}),
      (error: {
        code?: string;
        message: string;
        location?: { file?: string; line?: number; path?: string };
      }) =>
        error.code === 'DVM_SCHEMA_INVALID' &&
        /must not exceed agent\.limits\.connections \(100\), not 101$/.test(error.message) &&
        error.location?.file === file &&
        error.location?.line === 4 &&
        error.location?.path === 'agent.limits.connections_per_address',
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
