import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentSettings, describeAgentSettings } from './agent-settings.ts';

test('describeAgentSettings says every setting in one line, the defaults included', () => {
  assert.equal(
    describeAgentSettings({}),
    'follows 100 at once (20 per principal); requests not rate-limited; connections 4096 at once; event streams 2048 at once; executions kept for ever; environments any; 0 audit alert rule(s); allowed hosts not set',
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
    'follows 5 at once (20 per principal); requests 10/s per principal (burst 10); connections 50 at once; event streams 7 at once; executions kept 30d; environments prod, stage; 0 audit alert rule(s); allowed hosts dvm.example.com, .internal.example.com',
  );
  assert.equal(
    describeAgentSettings(agentSettings({ agent: { allowed_hosts: [] } }, 'config.yaml'))
      .split('; ')
      .at(-1),
    'allowed hosts none',
  );
});
